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
    directory_tokens (id) {
        id -> Text,
        directory_id -> Text,
        name -> Text,
        token_hash -> Text,
        suffix -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
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
    admin_session_keys,
    setup_links,
    directory_sync_hours,
    directory_sync_rejections,
);
