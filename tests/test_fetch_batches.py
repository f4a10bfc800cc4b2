"""How new messages are grouped for fetching: by count and by size, never reordered."""

from __future__ import annotations

from pipeline.fetch import size_bounded_batches

MB = 1024 * 1024


def test_batches_are_bounded_by_count_and_by_bytes_and_keep_uid_order() -> None:
    sizes = [(1, 10_000), (2, 20_000), (3, 12 * MB), (4, 15 * MB), (5, 5 * MB), (6, 1_000)]
    assert size_bounded_batches(sizes, max_count=20, max_bytes=30 * MB) == [[1, 2, 3, 4], [5, 6]]
    assert size_bounded_batches(sizes, max_count=2, max_bytes=30 * MB) == [[1, 2], [3, 4], [5, 6]]


def test_a_message_over_the_byte_bound_comes_alone() -> None:
    sizes = [(7, 1_000), (8, 80 * MB), (9, 1_000)]
    assert size_bounded_batches(sizes, max_count=20, max_bytes=30 * MB) == [[7], [8], [9]]


def test_no_messages_no_batches() -> None:
    assert size_bounded_batches([], max_count=20, max_bytes=30 * MB) == []
