//! The oracle keeps its own truth: a model bug shows in the counts.
mod tests {
    use crate::scenario::load_str;
    use crate::world::World;

    fn homework() -> World {
        let src = include_str!("../../scenarios/homework.yaml");
        World::new(load_str(src, "homework.yaml").expect("shipped scenario loads").scenario)
    }

    /// Break the model's duplicate detection on purpose: the idempotent sink
    /// forgets its rows and applies every redelivery. Before round 2 the sink
    /// asked the ledger whether a record had taken effect, so a bug in either
    /// moved the run and its verdict together. Now the checker counts effects
    /// from `process` facts, and sees every duplicate the broken sink made.
    #[test]
    fn a_forgetful_idempotent_sink_shows_up_as_duplicates() {
        let mut honest = homework();
        honest.run().expect("runs");
        let s = crate::oracle::checkers::summarize(&honest);
        assert!(s.redelivered > 0, "homework redelivers after its consumer crash");
        assert_eq!(s.duplicates, 0, "the idempotent sink absorbs them");

        let mut broken = homework();
        broken.groups[0].sink.forgetful = true;
        broken.run().expect("runs");
        let b = crate::oracle::checkers::summarize(&broken);
        assert_eq!(b.redelivered, s.redelivered, "the sabotage changes no delivery, only the sink");
        assert_eq!(b.duplicates, b.redelivered, "every absorbed redelivery is now a duplicate effect");
        assert_ne!(b.trace_hash, s.trace_hash, "the process steps now say effect=1");
    }
}
