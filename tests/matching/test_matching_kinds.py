"""The cheapest kinds of partner: what the matcher's candidate search keeps of a kind-by-kind table."""

from __future__ import annotations

import numpy as np
import pytest

from conversations.matching.kinds import WIDE, cheapest


@pytest.mark.parametrize("width", [5, WIDE - 1, WIDE, 300])
@pytest.mark.parametrize("take", [1, 2, 4])
def test_cheapest_finds_each_rows_smallest_values(width: int, take: int) -> None:
    rng = np.random.default_rng(width * 10 + take)
    table = (rng.integers(0, 6, (50, width)) / 2).astype(np.float32)  # few values: many ties
    found = cheapest(table, take)
    assert found.shape == (50, take)
    for row, columns in zip(table, found, strict=True):
        assert len(set(columns.tolist())) == take  # distinct columns
        assert sorted(row[columns].tolist()) == sorted(row.tolist())[:take]


def test_cheapest_on_a_wide_table_takes_the_first_of_equal_values_and_leaves_it_unchanged() -> None:
    table = np.zeros((3, WIDE + 10), dtype=np.float32)
    table[:, 7] = -1.0
    before = table.copy()
    found = cheapest(table, 3)
    assert found.tolist() == [[7, 0, 1]] * 3
    assert np.array_equal(table, before)  # not written over unless the caller owns it
