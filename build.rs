// Rebuild when a catalog migration changes: they are embedded with sqlx::migrate!.
fn main() {
    println!("cargo:rerun-if-changed=src/catalog/migrations");
}
