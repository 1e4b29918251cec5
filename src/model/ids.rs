//! Typed ids: one newtype per kind of thing the model numbers, so a broker
//! number cannot index the producers and a group cannot be taken for a
//! partition. Each is a `u32` underneath (`#[repr(transparent)]`): events and
//! messages stay as small as with bare integers.
//!
//! Entity vectors are [`IdVec`]s, indexed by their own id type only. The
//! oracle's side works with the raw numbers the trace carries (`raw`); an
//! `IdVec` derefs to a slice for it.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut, Index, IndexMut};

/// What every typed id can do: be built from a raw number and index a vector.
pub trait Id: Copy + Eq + Ord + fmt::Debug + 'static {
    fn from_index(i: usize) -> Self;
    fn index(self) -> usize;
}

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(u32);

        impl $name {
            #[inline]
            pub const fn new(raw: u32) -> Self {
                $name(raw)
            }
            /// The number itself (as the trace and the oracle write it).
            #[inline]
            pub const fn raw(self) -> u32 {
                self.0
            }
            #[inline]
            pub const fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl Id for $name {
            #[inline]
            fn from_index(i: usize) -> Self {
                debug_assert!(i <= u32::MAX as usize);
                $name(i as u32)
            }
            #[inline]
            fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl From<$name> for u64 {
            #[inline]
            fn from(id: $name) -> u64 {
                id.0 as u64
            }
        }
    )*};
}

ids! {
    /// A broker, by its number.
    BrokerId;
    /// A producer instance: its index in `World::producers`.
    ProducerId;
    /// A consumer instance: its index in `World::consumers`.
    ConsumerId;
    /// A consumer group: its index in `World::groups` (and its coordinator's).
    GroupId;
    /// A topic: its index in `World::topics`.
    TopicId;
    /// A partition among every topic's: its index in `World::partitions`.
    PartitionId;
    /// A partition within its topic (what groups assign and commit).
    LocalPartition;
    /// A replica of a partition: its index in `Partition::replicas`.
    ReplicaId;
    /// A transactional id at the transaction coordinator: its index in `World::txns`.
    TxnId;
    /// A batch in the world's batch pool.
    BatchId;
    /// A produce request in the world's request pool (`World::requests`).
    RequestId;
    /// A slot holding the partitions of a follower's fetch and, in its
    /// answer, each one's data (`World::fetch_slots`).
    FetchSlot;
    /// A slot holding the partitions of a consumer's fetch and, in its
    /// answer, each one's records (`World::consumer_fetches`).
    ConsumerFetchSlot;
    /// A record, in the order the applications called send(). Below bit 31:
    /// a log entry with that bit set is a control marker.
    RecordId;
    /// A transaction marker: its index in `World::markers`.
    MarkerId;
    /// A slot of offsets carried by an in-flight commit (`World::commit_slots`).
    CommitSlot;
    /// A slot holding the assignment an in-flight JoinResponse carries (`World::assignment_slots`).
    AssignmentSlot;
    /// A slot holding the partitions an OffsetFetch asks about and, in its
    /// response, their committed offsets (`World::offset_slots`).
    OffsetsSlot;
    /// A process's incarnation: a crash bumps it, so the timers and replies of
    /// a dead incarnation are recognised and dropped.
    Incarnation;
    /// A group generation (0: none yet).
    Generation;
    /// A partition's leader epoch (also the epoch stamped on log entries).
    LeaderEpoch;
    /// A member id within a group (0: none, ask for a new one).
    MemberId;
    /// A producer epoch of a transactional id.
    ProducerEpoch;
}

impl Incarnation {
    /// The next incarnation (a crash or a fresh start).
    pub fn next(self) -> Incarnation {
        Incarnation(self.0 + 1)
    }
}

impl Generation {
    pub const NONE: Generation = Generation(0);
    pub fn next(self) -> Generation {
        Generation(self.0 + 1)
    }
}

impl LeaderEpoch {
    pub fn next(self) -> LeaderEpoch {
        LeaderEpoch(self.0 + 1)
    }
}

impl ProducerEpoch {
    pub fn next(self) -> ProducerEpoch {
        ProducerEpoch(self.0 + 1)
    }
}

impl MemberId {
    /// No member id: a JoinGroup with it asks for a new one.
    pub const NONE: MemberId = MemberId(0);
    pub fn is_none(self) -> bool {
        self.0 == 0
    }
    pub fn next(self) -> MemberId {
        MemberId(self.0 + 1)
    }
}

impl PartitionId {
    /// Partition `local` of a topic whose first partition is `self`.
    #[inline]
    pub fn at(self, local: LocalPartition) -> PartitionId {
        PartitionId(self.0 + local.0)
    }
    /// This partition's place within a topic whose first partition is `first`.
    #[inline]
    pub fn local_in(self, first: PartitionId) -> LocalPartition {
        debug_assert!(self.0 >= first.0);
        LocalPartition(self.0 - first.0)
    }
}

impl ConsumerId {
    /// The consumer `n` places after this one.
    #[inline]
    pub fn plus(self, n: u32) -> ConsumerId {
        ConsumerId(self.0 + n)
    }
}

/// A vector indexed by its own id type: `brokers[producer]` does not compile.
/// It derefs to a slice (iteration, `len`), and takes a raw `usize` index for
/// the oracle, which reads numbers from the trace.
#[derive(Clone, PartialEq, Eq)]
pub struct IdVec<I, T> {
    items: Vec<T>,
    _id: PhantomData<fn(I) -> I>,
}

impl<I: Id, T> IdVec<I, T> {
    pub fn new() -> Self {
        IdVec { items: Vec::new(), _id: PhantomData }
    }
    pub fn from_vec(items: Vec<T>) -> Self {
        IdVec { items, _id: PhantomData }
    }
    /// `n` copies of `value`.
    pub fn filled(value: T, n: usize) -> Self
    where
        T: Clone,
    {
        IdVec::from_vec(vec![value; n])
    }
    /// Grows (or shrinks) to `n` items, new ones `value`.
    pub fn resize(&mut self, n: usize, value: T)
    where
        T: Clone,
    {
        self.items.resize(n, value);
    }
    /// Appends `value`; its id.
    pub fn push(&mut self, value: T) -> I {
        let id = I::from_index(self.items.len());
        self.items.push(value);
        id
    }
    /// The id the next `push` returns.
    pub fn next_id(&self) -> I {
        I::from_index(self.items.len())
    }
    /// Every id, in order.
    pub fn ids(&self) -> impl DoubleEndedIterator<Item = I> + ExactSizeIterator + Clone + 'static {
        (0..self.items.len()).map(I::from_index)
    }
    pub fn iter_enumerated(&self) -> impl DoubleEndedIterator<Item = (I, &T)> + ExactSizeIterator {
        self.items.iter().enumerate().map(|(i, t)| (I::from_index(i), t))
    }
    pub fn iter_enumerated_mut(&mut self) -> impl DoubleEndedIterator<Item = (I, &mut T)> + ExactSizeIterator {
        self.items.iter_mut().enumerate().map(|(i, t)| (I::from_index(i), t))
    }
    pub fn get(&self, id: I) -> Option<&T> {
        self.items.get(id.index())
    }
    /// The first id whose item satisfies `f`.
    pub fn position(&self, f: impl FnMut(&T) -> bool) -> Option<I> {
        self.items.iter().position(f).map(I::from_index)
    }
    pub fn into_vec(self) -> Vec<T> {
        self.items
    }
    /// The items `a` and `b` (different ids), the first to read and the second to change.
    pub fn read_and_change(&mut self, a: I, b: I) -> (&T, &mut T) {
        let (a, b) = (a.index(), b.index());
        assert_ne!(a, b, "two different items");
        if a < b {
            let (lo, hi) = self.items.split_at_mut(b);
            (&lo[a], &mut hi[0])
        } else {
            let (lo, hi) = self.items.split_at_mut(a);
            (&hi[0], &mut lo[b])
        }
    }
}

impl<I: Id, T> Default for IdVec<I, T> {
    fn default() -> Self {
        IdVec::new()
    }
}

impl<I, T: fmt::Debug> fmt::Debug for IdVec<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.items.fmt(f)
    }
}

impl<I: Id, T> FromIterator<T> for IdVec<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(iter: It) -> Self {
        IdVec::from_vec(iter.into_iter().collect())
    }
}

impl<I: Id, T> Index<I> for IdVec<I, T> {
    type Output = T;
    #[inline]
    fn index(&self, id: I) -> &T {
        &self.items[id.index()]
    }
}

impl<I: Id, T> IndexMut<I> for IdVec<I, T> {
    #[inline]
    fn index_mut(&mut self, id: I) -> &mut T {
        &mut self.items[id.index()]
    }
}

/// Raw indexing by a number, for the oracle's side (it reads ids from the
/// trace as numbers); the model indexes by typed ids only.
impl<I, T> Index<usize> for IdVec<I, T> {
    type Output = T;
    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.items[i]
    }
}

impl<I, T> IndexMut<usize> for IdVec<I, T> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.items[i]
    }
}

impl<I, T> Deref for IdVec<I, T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        &self.items
    }
}

impl<I, T> DerefMut for IdVec<I, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.items
    }
}

impl<'a, I, T> IntoIterator for &'a IdVec<I, T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<'a, I, T> IntoIterator for &'a mut IdVec<I, T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_vec_hands_out_ids_in_order() {
        let mut v: IdVec<BrokerId, &str> = IdVec::new();
        let a = v.push("a");
        let b = v.push("b");
        assert_eq!((a, b), (BrokerId::new(0), BrokerId::new(1)));
        assert_eq!(v[b], "b");
        assert_eq!(v.ids().collect::<Vec<_>>(), vec![a, b]);
        assert_eq!(v.iter_enumerated().map(|(i, s)| (i.raw(), *s)).collect::<Vec<_>>(), vec![(0, "a"), (1, "b")]);
    }

    #[test]
    fn ids_are_as_small_as_their_numbers() {
        assert_eq!(std::mem::size_of::<PartitionId>(), 4);
        assert_eq!(std::mem::size_of::<Option<MemberId>>(), 8);
        let first = PartitionId::new(4);
        assert_eq!(first.at(LocalPartition::new(2)), PartitionId::new(6));
        assert_eq!(PartitionId::new(6).local_in(first), LocalPartition::new(2));
    }
}
