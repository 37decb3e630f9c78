"""A sender killed with SIGKILL mid-drain resumes, and every recipient gets exactly one post."""

from __future__ import annotations

import signal

import pytest

from tests.delivery.ledger import read, tags
from tests.delivery.processes import finish, outbox_of, rows, sender, statuses, wait_for

N = 60


@pytest.mark.parametrize("k", [1, 23])
def test_sigkill_after_k_posts_then_restart_delivers_each_post_once(db_url, tmp_path, k):
    uow = outbox_of(db_url, N)
    ledger = tmp_path / "ledger"
    first = sender(db_url, ledger, "--name", "first", "--block-after", str(k), "--concurrency", "4")
    wait_for(lambda: len(read(ledger)) >= k, what=f"{k} posts")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    assert len(read(ledger)) == k
    left = statuses(uow)
    assert left["sending"] >= 1  # the k-th post landed but was never marked; others were in flight
    assert left["sent"] < k  # so at least that one must be found, not resent

    # restart: a lease of 0 s says "every claim you find belongs to a dead sender" (it does)
    finish(sender(db_url, ledger, "--name", "second", "--lease", "0"))
    counts = tags(ledger)
    assert sorted(counts) == sorted(f"k{i}" for i in range(N))
    assert set(counts.values()) == {1}, {t: c for t, c in counts.items() if c > 1}
    assert statuses(uow)["sent"] == N
    assert all(r.result["conversation_id"].startswith("D-U") for r in rows(uow, "sent"))


def test_a_live_senders_claims_are_left_alone_until_their_lease_ends(db_url, tmp_path):
    uow = outbox_of(db_url, 10)
    ledger = tmp_path / "ledger"
    hung = sender(db_url, ledger, "--name", "hung", "--block-after", "1", "--concurrency", "3")
    try:
        wait_for(lambda: len(read(ledger)) >= 1, what="the first post")
        wait_for(lambda: statuses(uow)["sending"] == 3, what="three claims")
        # another sender with the default five-minute lease must not touch those three rows
        finish(sender(db_url, ledger, "--name", "other"))
        assert statuses(uow)["sending"] == 3 and statuses(uow)["sent"] == 7
    finally:
        hung.send_signal(signal.SIGKILL)
        hung.wait(timeout=10)
    finish(sender(db_url, ledger, "--name", "after", "--lease", "0"))
    assert set(tags(ledger).values()) == {1} and len(tags(ledger)) == 10
