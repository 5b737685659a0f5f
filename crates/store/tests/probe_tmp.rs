#[test]
fn probe() {
    let _ = roster_store::testing::fresh_postgres_database();
}
