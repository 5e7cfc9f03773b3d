//! The test support itself: a throwaway PostgreSQL cluster stops, starts again on the same
//! port with its data, and is removed on drop.

use super::postgres::{PgCluster, on_thread, with_database};

fn count_rows(url: &str) -> Result<i64, postgres::Error> {
    let url = url.to_owned();
    on_thread(move || {
        let mut db = postgres::Client::connect(&url, postgres::NoTls)?;
        Ok(db.query_one("SELECT count(*)::bigint FROM t", &[])?.get(0))
    })
}

#[test]
fn a_throwaway_cluster_stops_starts_again_and_goes_away() {
    let mut pg = PgCluster::start();
    let url = pg.create_database("support_test");
    assert_eq!(url, with_database(&pg.url(), "support_test"));
    let setup = url.clone();
    on_thread(move || {
        let mut db = postgres::Client::connect(&setup, postgres::NoTls).expect("connect");
        db.batch_execute("CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2)").expect("setup");
    });
    assert_eq!(count_rows(&url).expect("query"), 2);

    let port = pg.port();
    pg.stop();
    assert!(count_rows(&url).is_err(), "nobody answers while stopped");
    pg.start_again();
    assert_eq!(pg.port(), port);
    assert_eq!(count_rows(&url).expect("query after the restart"), 2, "the data outlives a stop");

    let dir = pg.dir().to_owned();
    drop(pg);
    assert!(!dir.exists(), "the cluster's directory is removed");
    assert!(count_rows(&url).is_err(), "the server is gone");
}
