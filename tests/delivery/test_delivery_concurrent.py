"""Two senders on one outbox (two processes) never send a row twice, and both do some of the work."""

from __future__ import annotations

from tests.delivery.ledger import read, tags
from tests.delivery.processes import finish, outbox_of, sender, statuses, wait_for

N = 240


def test_two_senders_share_the_outbox_without_sending_a_row_twice(db_url, tmp_path):
    uow = outbox_of(db_url, N)
    ledger, start = tmp_path / "ledger", tmp_path / "go"
    options = ("--concurrency", "4", "--delay", "0.004", "--start-file", str(start))
    senders = [sender(db_url, ledger, "--name", name, *options) for name in ("one", "two")]
    wait_for(lambda: all((tmp_path / f"go.{name}.ready").exists() for name in ("one", "two")), what="ready")
    start.touch()
    for process in senders:
        finish(process)
    counts = tags(ledger)
    assert len(counts) == N
    assert set(counts.values()) == {1}, {t: c for t, c in counts.items() if c > 1}
    by_sender = {name for _, _, name in read(ledger)}
    assert by_sender == {"one", "two"}
    assert statuses(uow)["sent"] == N
