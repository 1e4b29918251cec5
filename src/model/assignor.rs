//! Partition assignors. Range is Kafka's `RangeAssignor` for one subscribed topic.

/// Kafka's `RangeAssignor` for a single topic: members sorted by id, each gets
/// `partitions / members` consecutive partitions and the first
/// `partitions % members` get one more. `members` must already be sorted.
/// Returns, per member, its partitions in order.
pub fn range(members: usize, partitions: u32, out: &mut Vec<Vec<u32>>) {
    out.clear();
    if members == 0 {
        return;
    }
    let per = partitions / members as u32;
    let extra = partitions % members as u32;
    let mut next = 0u32;
    for m in 0..members as u32 {
        let n = per + u32::from(m < extra);
        out.push((next..next + n).collect());
        next += n;
    }
    debug_assert_eq!(next, partitions);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assign(members: usize, partitions: u32) -> Vec<Vec<u32>> {
        let mut out = Vec::new();
        range(members, partitions, &mut out);
        out
    }

    /// RangeAssignor's javadoc: C0, C1 and t0 with 3 partitions → C0: [0, 1], C1: [2].
    #[test]
    fn javadoc_example() {
        assert_eq!(assign(2, 3), vec![vec![0, 1], vec![2]]);
    }

    #[test]
    fn even_and_uneven_splits() {
        assert_eq!(assign(3, 6), vec![vec![0, 1], vec![2, 3], vec![4, 5]]);
        assert_eq!(assign(2, 6), vec![vec![0, 1, 2], vec![3, 4, 5]]);
        assert_eq!(assign(4, 6), vec![vec![0, 1], vec![2, 3], vec![4], vec![5]]);
    }

    #[test]
    fn more_members_than_partitions_leaves_some_idle() {
        assert_eq!(assign(3, 2), vec![vec![0], vec![1], vec![]]);
        assert!(assign(0, 4).is_empty());
    }
}
