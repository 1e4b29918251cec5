//! Names for the ids a fact holds, from the run's shape (the trace header):
//! what the views print instead of numbers.

use crate::oracle::fact::{BrokerId, ConsumerId, Entity, Fact, GroupId, PartitionId, ProducerId, RecordId, TxnId};
use crate::oracle::shape::Shape;

/// Reads ids as names; an id the shape does not know prints as `kind#N`.
#[derive(Clone, Copy)]
pub struct Names<'a> {
    pub shape: &'a Shape,
}

fn named<T: AsRef<str>>(items: &[T], i: usize, kind: &str) -> String {
    items.get(i).map_or_else(|| format!("{kind}#{i}"), |n| n.as_ref().to_string())
}

impl<'a> Names<'a> {
    pub fn new(shape: &'a Shape) -> Names<'a> {
        Names { shape }
    }

    pub fn broker(&self, b: BrokerId) -> String {
        format!("broker-{}", b.raw())
    }

    pub fn producer(&self, p: ProducerId) -> String {
        let names: Vec<&str> = self.shape.producers.iter().map(|p| p.name.as_str()).collect();
        named(&names, p.index(), "producer")
    }

    pub fn consumer(&self, c: ConsumerId) -> String {
        self.shape.consumers.get(c.index()).map_or_else(|| format!("consumer#{}", c.raw()), |c| c.name.clone())
    }

    pub fn group(&self, g: GroupId) -> String {
        self.shape.groups.get(g.index()).map_or_else(|| format!("group#{}", g.raw()), |g| g.name.clone())
    }

    /// `topic/index`.
    pub fn partition(&self, p: PartitionId) -> String {
        self.shape.partitions.get(p.index()).map_or_else(|| format!("partition#{}", p.raw()), |p| p.name.clone())
    }

    /// Partition `local` of group `g`'s topic, as `topic/index`.
    pub fn group_partition(&self, g: GroupId, local: u32) -> String {
        let first = self.shape.groups.get(g.index()).map_or(0, |g| g.first_partition);
        self.partition(PartitionId::new(first + local))
    }

    pub fn txn(&self, t: TxnId) -> String {
        named(&self.shape.transactional_ids, t.index(), "transactional-id")
    }

    pub fn entity(&self, e: Entity) -> String {
        match e {
            Entity::Broker(b) => self.broker(b),
            Entity::Producer(p) => self.producer(p),
            Entity::Consumer(c) => self.consumer(c),
        }
    }

    /// The brokers of a bit set (`isr_brokers`), as `broker-0, broker-2`.
    pub fn brokers(&self, bits: u64) -> String {
        let names: Vec<String> = (0..64).filter(|b| bits >> b & 1 == 1).map(|b| format!("broker-{b}")).collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }

    /// The producer whose transactional id is `t`, if one is.
    pub fn txn_producer(&self, t: TxnId) -> Option<ProducerId> {
        self.shape.producers.iter().position(|p| p.txn == Some(t.raw())).map(|i| ProducerId::new(i as u32))
    }

    /// A record's name, `web-0#123` (its producer and place in that
    /// producer's send order), from the facts' `send` of it.
    pub fn find_record(&self, facts: &[(u64, Fact)], name: &str) -> Result<RecordId, String> {
        let first = self.shape.producers.first().map_or("web-0", |p| p.name.as_str());
        let all: Vec<&str> = self.shape.producers.iter().map(|p| p.name.as_str()).collect();
        let hint = || format!("name a record as PRODUCER#N, e.g. `{first}#0`; producers: {}", all.join(", "));
        let Some((p, seq)) = name.split_once('#') else { return Err(hint()) };
        let Some(pi) = all.iter().position(|x| *x == p) else { return Err(hint()) };
        let Ok(seq) = seq.parse::<u64>() else { return Err(hint()) };
        let mut sent = 0u64;
        for (_, f) in facts {
            if let Fact::Send { record, producer, send_seq, .. } = *f {
                if producer.index() == pi {
                    if send_seq == seq {
                        return Ok(record);
                    }
                    sent += 1;
                }
            }
        }
        Err(format!("{p} sent {sent} records in this run (#0 to #{})", sent.saturating_sub(1)))
    }
}
