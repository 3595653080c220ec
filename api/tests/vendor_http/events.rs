//! The events API: its three `events` encodings, gap-free pages, long poll, and the hand-off from
//! a snapshot to the event stream.

use super::*;

#[test]
fn events_accept_all_three_encodings_and_page_gap_free() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    seed(&s, &d, 3);
    let base = format!("/events?directory_id={}&order=asc&limit=100", d.id);
    let (_, a) = s.api(
        Method::GET,
        &format!("{base}&events=dsync.user.created,dsync.group.created"),
        None,
    );
    let (_, b) = s.api(
        Method::GET,
        &format!("{base}&events=dsync.user.created%2Cdsync.group.created"),
        None,
    );
    let (_, c) = s.api(
        Method::GET,
        &format!("{base}&events[]=dsync.user.created&events[]=dsync.group.created"),
        None,
    );
    let (_, e) = s.api(
        Method::GET,
        &format!("{base}&events%5B%5D=dsync.user.created&events%5B%5D=dsync.group.created"),
        None,
    );
    let expect = vec![
        "dsync.user.created",
        "dsync.user.created",
        "dsync.user.created",
        "dsync.group.created",
    ];
    for v in [&a, &b, &c, &e] {
        assert_eq!(event_names_of(v), expect, "{v}");
    }
    assert_eq!(
        s.api(Method::GET, &format!("{base}&events=dsync.nope"), None)
            .0,
        422
    );
    // `order=normal` (WorkOS: after fetches newer) reads forward like asc; `before` is refused
    let (_, n) = s.api(
        Method::GET,
        &format!("/events?directory_id={}&order=normal&limit=100", d.id),
        None,
    );
    assert_eq!(n["data"].as_array().unwrap().len(), s.events(&d.id).len());
    assert_eq!(
        s.api(
            Method::GET,
            &format!("/events?directory_id={}&before=event_x", d.id),
            None
        )
        .0,
        422
    );
    // paging one by one equals one page; list_metadata.after is the last id
    let all = s.events(&d.id);
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut q = format!("/events?directory_id={}&order=asc&limit=1", d.id);
        if let Some(a) = &after {
            q.push_str(&format!("&after={a}"));
        }
        let (_, v) = s.api(Method::GET, &q, None);
        let data = v["data"].as_array().unwrap().clone();
        if data.is_empty() {
            break;
        }
        assert_eq!(v["list_metadata"]["after"], data[0]["id"]);
        after = data[0]["id"].as_str().map(str::to_string);
        seen.push(data[0].clone());
    }
    assert_eq!(seen, all);
    // organization-wide stream and range filters
    // the organization-wide stream is ordered across directories below the commit
    // horizon; on a shared PostgreSQL cluster other transactions can hold it back
    // briefly, so wait for it (never longer than 10 s)
    let t0 = Instant::now();
    let o = loop {
        let (_, o) = s.api(
            Method::GET,
            &format!("/events?organization_id={}&order=asc&limit=100", d.org),
            None,
        );
        if o["data"].as_array().unwrap().len() >= all.len()
            || t0.elapsed() > Duration::from_secs(10)
        {
            break o;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(o["data"].as_array().unwrap().len(), all.len());
    let (_, r) = s.api(
        Method::GET,
        &format!(
            "/events?directory_id={}&range_start=2000-01-01T00:00:00Z&limit=100",
            d.id
        ),
        None,
    );
    assert_eq!(r["data"].as_array().unwrap().len(), all.len());
    let (_, r) = s.api(
        Method::GET,
        &format!(
            "/events?directory_id={}&range_end=2000-01-01T00:00:00Z",
            d.id
        ),
        None,
    );
    assert!(r["data"].as_array().unwrap().is_empty());
    assert_eq!(
        s.api(Method::GET, "/events?after=event_doesnotexist", None)
            .0,
        422
    );
}

#[test]
fn long_poll_returns_as_soon_as_an_event_exists() {
    let s = Server::start();
    let d = s.onboard("okta scim v2.0");
    s.scim(&d, Method::GET, "/Users", None); // activation
    let last = s.events(&d.id).last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let t0 = Instant::now();
    let poll = long_poll(&s, &d.id, &last, 20);
    std::thread::sleep(Duration::from_millis(700));
    let wrote = Instant::now();
    s.scim(&d, Method::POST, "/Users", Some(user_body("late@x.test")));
    let (done, v) = poll.join().unwrap();
    assert_eq!(event_names_of(&v), vec!["dsync.user.created"]);
    assert!(done >= wrote, "the poll waited for the write");
    assert!(
        done.duration_since(t0) < Duration::from_secs(10),
        "returned long before the 20 s wait"
    );
    // nothing to wait for: returns empty after the wait
    let t = Instant::now();
    let after = v["list_metadata"]["after"].as_str().unwrap();
    let (st, v) = s.api(
        Method::GET,
        &format!("/events?directory_id={}&after={after}&wait=1", d.id),
        None,
    );
    assert_eq!(st, 200);
    assert!(v["data"].as_array().unwrap().is_empty());
    assert!(t.elapsed() >= Duration::from_millis(900));
    assert_eq!(s.api(Method::GET, "/events?wait=31", None).0, 422);
}

#[test]
fn snapshot_hands_off_to_the_event_stream_exactly() {
    let s = Server::start();
    let d = s.onboard("azure scim v2.0");
    let (ids, gid) = seed(&s, &d, 5);
    let r = s
        .client
        .get(format!("{}/directories/{}/snapshot", s.base, d.id))
        .bearer_auth(API_KEY)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/x-ndjson"));
    let lines: Vec<Value> = r
        .text()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let cursor = lines[0]["cursor"].as_str().unwrap().to_string();
    let end = lines.last().unwrap();
    assert_eq!(end["cursor"], cursor.as_str());
    // the first line and the last (with the counts: 5 users, 1 group, 2 memberships)
    let mut settings = snapshot_settings(&[
        (d.id.as_str(), "directory"),
        (d.org.as_str(), "organization"),
    ]);
    settings.add_redaction(".cursor", "[cursor]");
    settings.bind(|| {
        insta::assert_json_snapshot!("events_snapshot_first_line", lines[0]);
        insta::assert_json_snapshot!("events_snapshot_last_line", end);
    });
    // state from the snapshot, then replay the events after its cursor
    let mut users: std::collections::BTreeSet<String> = lines
        .iter()
        .filter(|l| l["object"] == "directory_user")
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    let mut members: std::collections::BTreeSet<(String, String)> = lines
        .iter()
        .filter(|l| l["object"] == "directory_group_membership")
        .map(|l| {
            (
                l["group_id"].as_str().unwrap().to_string(),
                l["user_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // more writes after the snapshot
    s.scim(&d, Method::DELETE, &format!("/Users/{}", ids[0]), None);
    s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(
            json!([{"op": "add", "path": "members", "value": [{"value": ids[4]}]}]),
        )),
    );
    let (_, _, nu) = s.scim(&d, Method::POST, "/Users", Some(user_body("new@x.test")));
    let (_, v) = s.api(
        Method::GET,
        &format!(
            "/events?directory_id={}&after={cursor}&order=asc&limit=100",
            d.id
        ),
        None,
    );
    for e in v["data"].as_array().unwrap() {
        let data = &e["data"];
        match e["event"].as_str().unwrap() {
            "dsync.user.created" => {
                users.insert(data["id"].as_str().unwrap().to_string());
            }
            "dsync.user.deleted" => {
                users.remove(data["id"].as_str().unwrap());
            }
            "dsync.group.user_added" => {
                members.insert((
                    data["group"]["id"].as_str().unwrap().to_string(),
                    data["user"]["id"].as_str().unwrap().to_string(),
                ));
            }
            "dsync.group.user_removed" => {
                members.remove(&(
                    data["group"]["id"].as_str().unwrap().to_string(),
                    data["user"]["id"].as_str().unwrap().to_string(),
                ));
            }
            _ => {}
        }
    }
    let mut want_users: std::collections::BTreeSet<String> = ids[1..].iter().cloned().collect();
    want_users.insert(nu["id"].as_str().unwrap().to_string());
    assert_eq!(users, want_users);
    let want_members: std::collections::BTreeSet<(String, String)> =
        [ids[1].clone(), ids[4].clone()]
            .into_iter()
            .map(|u| (gid.clone(), u))
            .collect();
    assert_eq!(members, want_members);
    assert_eq!(
        s.client
            .get(format!("{}/directories/directory_nope/snapshot", s.base))
            .bearer_auth(API_KEY)
            .send()
            .unwrap()
            .status()
            .as_u16(),
        404
    );
}
