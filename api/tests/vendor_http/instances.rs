//! Two instances on one database: revocations and wake-ups shared through Redis.

use super::*;

#[test]
fn instances_share_revocations_and_wake_ups_through_redis() {
    let Some((a, b)) = two_instances(&[]) else {
        return;
    };
    let d = a.onboard("okta scim v2.0");
    // warm B's verification cache, then revoke on A: B refuses within a second
    assert_eq!(
        b.req(
            Method::GET,
            &format!("/scim/v2/{}/Users", d.id),
            &d.token,
            None
        )
        .status()
        .as_u16(),
        200
    );
    let (_, toks) = a.api(Method::GET, &format!("/directories/{}/tokens", d.id), None);
    let tid = toks["data"][0]["id"].as_str().unwrap();
    let t0 = Instant::now();
    assert_eq!(
        a.api(
            Method::DELETE,
            &format!("/directories/{}/tokens/{tid}", d.id),
            None
        )
        .0,
        204
    );
    loop {
        let st = b
            .req(
                Method::GET,
                &format!("/scim/v2/{}/Users", d.id),
                &d.token,
                None,
            )
            .status()
            .as_u16();
        if st == 401 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(1),
            "revocation not effective on B within 1 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // a long poll on B wakes when A commits
    let (_, t2) = a.api(
        Method::POST,
        &format!("/directories/{}/tokens", d.id),
        Some(json!({"name": "t2"})),
    );
    let d2 = Dir {
        token: t2["bearer_token"].as_str().unwrap().to_string(),
        ..d
    };
    let last = a.events(&d2.id).last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let url = format!(
        "{}/events?directory_id={}&after={last}&wait=20",
        b.base, d2.id
    );
    let client = b.client.clone();
    let poll = std::thread::spawn(move || {
        client
            .get(url)
            .bearer_auth(API_KEY)
            .send()
            .unwrap()
            .json::<Value>()
            .unwrap()
    });
    std::thread::sleep(Duration::from_millis(500));
    let t1 = Instant::now();
    a.scim(&d2, Method::POST, "/Users", Some(user_body("x@x.test")));
    let v = poll.join().unwrap();
    assert_eq!(event_names_of(&v), vec!["dsync.user.created"]);
    assert!(t1.elapsed() < Duration::from_secs(3));
}
