//! The one hand-maintained diesel schema, limited to types both backends share
//! (STYLE.md §2.4). `migrations/{sqlite,postgres}` must agree with it; a test compares
//! the migrated column sets of both backends.

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        domains -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    directories (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        dir_type -> Text,
        state -> Text,
        last_seq -> BigInt,
        activated_at -> Nullable<Timestamp>,
        attribute_mappings -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    directory_counts (directory_id) {
        directory_id -> Text,
        users_active -> BigInt,
        users_inactive -> BigInt,
        groups -> BigInt,
    }
}

diesel::table! {
    directory_tokens (id) {
        id -> Text,
        directory_id -> Text,
        name -> Text,
        token_hash -> Text,
        suffix -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        key_hash -> Text,
        suffix -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        scopes -> Text,
        expires_at -> Nullable<Timestamp>,
        is_bootstrap -> Bool,
    }
}

diesel::table! {
    directory_users (id) {
        id -> Text,
        directory_id -> Text,
        user_name -> Text,
        user_name_ci -> Text,
        external_id -> Nullable<Text>,
        active -> Bool,
        email_ci -> Nullable<Text>,
        state -> Text,
        version -> BigInt,
        scim -> Text,
        normalized -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_attrs (user_id, attr, elem) {
        user_id -> Text,
        directory_id -> Text,
        attr -> Text,
        elem -> Integer,
        vtype -> Nullable<Text>,
        vprimary -> Nullable<Bool>,
        value -> Nullable<Text>,
        value_ci -> Nullable<Text>,
    }
}

diesel::table! {
    directory_groups (id) {
        id -> Text,
        directory_id -> Text,
        display_name -> Text,
        display_name_ci -> Text,
        external_id -> Nullable<Text>,
        version -> BigInt,
        scim -> Text,
        normalized -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    memberships (group_id, member_id) {
        group_id -> Text,
        member_id -> Text,
        directory_id -> Text,
        member_type -> Text,
        created_at -> Timestamp,
        display -> Nullable<Text>,
    }
}

diesel::table! {
    events (gid) {
        gid -> BigInt,
        id -> Text,
        txid -> BigInt,
        directory_id -> Text,
        organization_id -> Text,
        seq -> BigInt,
        event -> Text,
        data -> Text,
        created_at -> Timestamp,
        n -> Integer,
    }
}

diesel::table! {
    role_mappings (id) {
        id -> Text,
        organization_id -> Text,
        group_id -> Text,
        role_slug -> Text,
        priority -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    admin_users (id) {
        id -> Text,
        email -> Text,
        email_ci -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
        password_changed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    admin_session_keys (kid) {
        kid -> Text,
        sealed_secret -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    setup_links (id) {
        id -> Text,
        organization_id -> Text,
        return_url -> Nullable<Text>,
        success_url -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    directory_sync_hours (directory_id, hour) {
        directory_id -> Text,
        hour -> Timestamp,
        requests -> BigInt,
        rejections -> BigInt,
        last_request_at -> Timestamp,
    }
}

diesel::table! {
    directory_sync_rejections (id) {
        id -> Text,
        directory_id -> Text,
        at -> Timestamp,
        method -> Text,
        status -> Integer,
        reason -> Text,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        endpoint_url -> Text,
        events -> Text,
        organization_id -> Nullable<Text>,
        description -> Nullable<Text>,
        status -> Text,
        disabled_reason -> Nullable<Text>,
        secret_sealed -> Text,
        previous_secret_sealed -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        last_success_at -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_cursors (endpoint_id, directory_id) {
        endpoint_id -> Text,
        directory_id -> Text,
        delivered_seq -> BigInt,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        replay_to -> Nullable<BigInt>,
        replay_resume -> Nullable<BigInt>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> BigInt,
        endpoint_id -> Text,
        directory_id -> Text,
        event_id -> Text,
        event -> Text,
        seq -> BigInt,
        attempt -> Integer,
        outcome -> Text,
        status_code -> Nullable<Integer>,
        latency_ms -> BigInt,
        error_kind -> Nullable<Text>,
        response_snippet -> Nullable<Text>,
        attempted_at -> Timestamp,
    }
}

diesel::joinable!(directories -> organizations (organization_id));
diesel::joinable!(directory_tokens -> directories (directory_id));
diesel::joinable!(directory_users -> directories (directory_id));
diesel::joinable!(directory_groups -> directories (directory_id));
diesel::joinable!(memberships -> directory_groups (group_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    directories,
    directory_tokens,
    api_keys,
    directory_users,
    user_attrs,
    directory_groups,
    memberships,
    events,
    role_mappings,
    admin_users,
    audit_log,
    audit_anchor,
    webhook_endpoints,
    webhook_cursors,
    webhook_attempts,
    admin_session_keys,
    setup_links,
    directory_sync_hours,
    directory_sync_rejections,
);

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        id -> Text,
        at -> Timestamp,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        actor_name -> Nullable<Text>,
        client_addr -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        action -> Text,
        target_type -> Nullable<Text>,
        target_id -> Nullable<Text>,
        outcome -> Text,
        details -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_anchor (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}
