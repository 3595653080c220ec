//! The IdPs' shapes of ../shared/docs/IDP-QUIRKS.md, tolerated and read as the IdP meant them.

use super::*;

#[test]
fn idp_quirks_are_tolerated_and_mean_what_the_idp_meant() {
    let s = Server::start();
    let d = s.onboard("azure scim v2.0");
    // OneLogin: emails object, string active, managerId, id:null, no enterprise schema entry
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": null, "userName": "ol@x.test", "active": "true",
        "emails": {"value": "ol@x.test", "type": "work"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"managerId": "m-9", "displayName": "Boss"}, "department": "Ops"}
    });
    let (st, _, u) = s.scim(&d, Method::POST, "/Users", Some(body));
    assert_eq!(st, 201, "{u}");
    // as the IdP meant it: `active` true, `emails` a list, the manager's `value`
    scim_settings(&d, &[]).bind(|| {
        insta::assert_json_snapshot!("idp_quirks_onelogin_user", u);
    });
    let id = u["id"].as_str().unwrap().to_string();
    // Entra: capitalised op, string "False"
    let (st, _, _) = s.scim(
        &d,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(patch(
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )),
    );
    assert!(st == 200 || st == 204);
    let (_, _, got) = s.scim(&d, Method::GET, &format!("/Users/{id}"), None);
    assert_eq!(got["active"], false, "disabled users stay readable");
    // Entra: no-path with dotted and URN keys
    let ops = json!([{"op": "replace", "value": {"name.givenName": "Kkom", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"}}]);
    let (st, _, got) = s.scim(&d, Method::PATCH, &format!("/Users/{id}"), Some(patch(ops)));
    assert_eq!(st, 200, "{got}");
    assert_eq!(got["name"]["givenName"], "Kkom");
    assert_eq!(
        got["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"],
        "Aklq"
    );
    // Entra manager as a bare string, then removed
    let ops = json!([{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "boss-1"}]);
    let (_, _, got) = s.scim(&d, Method::PATCH, &format!("/Users/{id}"), Some(patch(ops)));
    assert_eq!(
        got["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]["value"],
        "boss-1"
    );
    let ops = json!([{"op": "Remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]);
    let (_, _, got) = s.scim(&d, Method::PATCH, &format!("/Users/{id}"), Some(patch(ops)));
    assert!(
        got["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
            .get("manager")
            .is_none(),
        "{got}"
    );
    // Entra group schema URI, members with $ref null, Remove with value list, members[value eq]
    let (_, _, u2) = s.scim(&d, Method::POST, "/Users", Some(user_body("two@x.test")));
    let id2 = u2["id"].as_str().unwrap().to_string();
    let g = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                   "externalId": "g-ext", "displayName": "Eng", "meta": {"resourceType": "Group"}});
    let (st, _, g) = s.scim(&d, Method::POST, "/Groups", Some(g));
    assert_eq!(st, 201, "{g}");
    let gid = g["id"].as_str().unwrap().to_string();
    let add = json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": id}, {"$ref": null, "value": id2}]}]);
    let (st, _, _) = s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(add.clone())),
    );
    assert_eq!(st, 204);
    // idempotent re-add: no duplicate events
    let (st, _, _) = s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(add)),
    );
    assert_eq!(st, 204);
    let members = |s: &Server| -> Vec<String> {
        let (_, _, g) = s.scim(&d, Method::GET, &format!("/Groups/{gid}"), None);
        let mut v: Vec<String> = g["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["value"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let mut both = vec![id.clone(), id2.clone()];
    both.sort();
    assert_eq!(members(&s), both);
    // Okta rename carrying the id, re-sent: one group.updated only; membership untouched
    let rename = json!([{"op": "replace", "value": {"id": gid, "displayName": "Engineering"}}]);
    s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(rename.clone())),
    );
    s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(rename)),
    );
    assert_eq!(
        members(&s),
        both,
        "path-less replace without members must not wipe"
    );
    let (st, _, b) = s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(
            json!([{"op": "replace", "value": {"id": "other", "displayName": "X"}}]),
        )),
    );
    assert_scim_error(st, &b, 400, Some("mutability"));
    let rm = json!([{"op": "Remove", "path": "members", "value": [{"value": id2}]}]);
    s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(rm)),
    );
    assert_eq!(members(&s), vec![id.clone()]);
    let rm = json!([{"op": "remove", "path": format!("members[value eq \"{id}\"]")}]);
    s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(rm)),
    );
    assert!(members(&s).is_empty());
    // unknown member id: 400 invalidValue and nothing applied
    let add = json!([{"op": "add", "path": "members", "value": [{"value": id}, {"value": "directory_user_nope"}]}]);
    let (st, _, b) = s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(add)),
    );
    assert_scim_error(st, &b, 400, Some("invalidValue"));
    assert!(members(&s).is_empty());
    // a user of another directory is not a member candidate either
    let other = s.onboard("azure scim v2.0");
    let (_, _, ou) = s.scim(&other, Method::POST, "/Users", Some(user_body("o@x.test")));
    let add = json!([{"op": "add", "path": "members", "value": [{"value": ou["id"]}]}]);
    let (st, _, b) = s.scim(
        &d,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(patch(add)),
    );
    assert_scim_error(st, &b, 400, Some("invalidValue"));

    let names: Vec<String> = s
        .event_names(&d.id)
        .into_iter()
        .filter(|n| n != "dsync.activated" && !n.starts_with("dsync.token"))
        .collect();
    assert_eq!(
        names,
        vec![
            "dsync.user.created",
            "dsync.user.updated",
            "dsync.user.updated",
            "dsync.user.updated",
            "dsync.user.updated",
            "dsync.user.created",
            "dsync.group.created",
            "dsync.group.user_added",
            "dsync.group.user_added",
            "dsync.group.updated",
            "dsync.group.user_removed",
            "dsync.group.user_removed",
        ],
        "one event per real change, none for no-ops"
    );
}
