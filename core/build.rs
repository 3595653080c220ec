fn main() {
    // embed_migrations! uses include_str!: a newly added migration directory
    // would not trigger a rebuild without these (CRATE-NOTES.md §b).
    println!("cargo:rerun-if-changed=../migrations/sqlite");
    println!("cargo:rerun-if-changed=../migrations/postgres");
}
