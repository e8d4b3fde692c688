"""Multipart layout: parts grow so that an upload up to S3's 5 TB stays within 10,000 parts."""

from media_core.services.uploads import MAX_PARTS, MIN_PART, part_size_for, part_sizes

MIB = 1024 * 1024


def test_parts_grow_to_stay_within_10000_parts_up_to_5_tb() -> None:
    for size in (1, 5 * MIB, 6 * MIB, 160_000 * MIB, 5 * 1024**4):
        part_size = part_size_for(size, 16 * MIB)
        sizes = part_sizes(size, part_size)
        assert len(sizes) <= MAX_PARTS
        assert sum(sizes) == size
        assert all(s == part_size for s in sizes[:-1]) and 0 < sizes[-1] <= part_size
        assert part_size >= MIN_PART


def test_a_small_declared_size_gets_one_exact_part() -> None:
    assert part_sizes(1, part_size_for(1, 16 * MIB)) == [1]
