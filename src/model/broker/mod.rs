//! Brokers and partitions: replica logs, leaders, the ISR, the high watermark,
//! follower replication by fetch, and the controller's elections.
//!
//! Each partition keeps one log per replica. The leader appends produce
//! requests; followers copy its log by fetching; the high watermark is the
//! smallest log end offset in the ISR; consumers read only below it.
//!
//! - `log`: a replica's log, its epoch cache and batch headers;
//! - `page_cache`: what of a log is on disk (what a power loss keeps);
//! - `partition`: a partition's replicas, leader, ISR and waiting writes;
//! - `idempotence`: the leader's producer state and transaction fates;
//! - `limits`: Kinesis shard limits;
//! - `produce`: the write path (produce requests and transaction markers);
//! - `replication`: follower fetches, the ISR and the high watermark;
//! - `fetch`: consumer fetches;
//! - `election`: fencing, elections, rejoining;
//! - `leadership`: per broker, the partitions it leads;
//! - this file: a broker process's life (crash, power loss, pause, restart).

mod election;
pub mod entries;
pub mod fetch;
pub mod fetcher;
pub mod idempotence;
pub mod leadership;
pub mod limits;
pub mod log;
pub mod page_cache;
pub mod partition;
mod produce;
pub mod quota;
mod replication;

pub use idempotence::{OpenTxn, ProducerState, TxnFates, DEDUP_BATCHES};
pub use limits::{Bucket, ShardLimits};
pub use log::{BatchHeader, LogEntry, Replica, CONTROL, NO_HEADER};
pub use partition::{Partition, PendingAck, Waiter};

use crate::kernel::time::Duration;
use crate::model::ids::{BrokerId, Incarnation, PartitionId};
use crate::oracle::fact::Fact;
use crate::world::event::{Event, FetchError, ProduceError};
use crate::world::CrashKind;
use crate::world::World;

#[derive(Clone, Debug)]
pub struct Broker {
    pub up: bool,
    pub inc: Incarnation,
    /// The controller's view: fenced brokers lead nothing and are in no ISR.
    pub fenced: bool,
    /// Restarted while its old incarnation's session was still valid: the
    /// controller refuses the registration until that session expires
    /// (`ClusterControlManager.registerBroker`), and until then the new
    /// process serves nothing (its data plane opens once registered).
    pub registering: bool,
    /// Client quotas: each client's byte rate and channel mute.
    pub quotas: quota::Quotas,
    /// Its machine is gone (a host crash: power loss, a kernel panic): no
    /// kernel answers, so connects and requests to it go unanswered until
    /// the clients' timeouts, instead of being refused or reset.
    pub host_down: bool,
}

impl Broker {
    pub fn new() -> Broker {
        Broker {
            up: true,
            inc: Incarnation::new(0),
            fenced: false,
            registering: false,
            quotas: quota::Quotas::default(),
            host_down: false,
        }
    }
}

impl Default for Broker {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// A broker process dies. Its log stays on disk; its connections break, so
    /// clients waiting on it get errors now; the controller notices later.
    /// A host crash (`CrashKind::Host`) sends nothing: no reset reaches the
    /// clients and followers, who learn from their own timeouts.
    pub(crate) fn crash_broker(&mut self, b: BrokerId, kind: CrashKind) {
        // A process still waiting to register dies before it served anything;
        // the old session's expiry is already scheduled.
        self.brokers[b].registering = false;
        if !self.brokers[b].up {
            return;
        }
        self.brokers[b].up = false;
        self.brokers[b].inc = self.brokers[b].inc.next();
        for partition in self.partitions.ids() {
            let part = &mut self.partitions[partition];
            let Some(r) = part.replica_on(b) else { continue };
            part.replicas[r].fetch_token = part.replicas[r].fetch_token.wrapping_add(1);
            if part.leader != Some(r) {
                continue;
            }
            if kind == CrashKind::Host {
                self.drop_waiters(partition);
            } else {
                self.release_waiters(partition, ProduceError::Disconnected, FetchError::Disconnected);
            }
        }
        // Follower sessions to and from the dead broker (after a host crash
        // its followers find out at their fetch's timeout).
        self.end_fetch_sessions(b, kind);
        if kind == CrashKind::Host {
            self.brokers[b].host_down = true;
        } else {
            self.reset_connections(b);
        }
        let inc = self.brokers[b].inc;
        let timeout = self.scenario.broker_config.broker_session_timeout;
        self.after(timeout, Event::ControllerFence { broker: b, inc });
    }

    /// A host crash: what waits at the leader of `partition` dies with the
    /// machine, unanswered; the clients time out. The transaction
    /// coordinator is not on the network here (docs/model.md), so its
    /// markers still fail at once and are retried.
    fn drop_waiters(&mut self, partition: PartitionId) {
        let part = &mut self.partitions[partition];
        let Some(old) = part.leader_broker() else { return };
        self.drop_parked_fetches(partition);
        let part = &mut self.partitions[partition];
        let pending: Vec<PendingAck> = part.pending_acks.drain(..).collect();
        for a in pending {
            if let Waiter::Marker { .. } = a.waiter {
                self.answer_waiter(old, partition, a.waiter, Some(ProduceError::Disconnected));
            }
        }
    }

    /// Power loss: every replica on broker `b` keeps only what reached the
    /// disk (`page_cache::durable_end`), whatever its high watermark: Kafka
    /// acknowledges from the page cache, so an acknowledged tail can go too
    /// (`LogLoader.recoverLog` truncates to the valid prefix). The crash follows.
    pub(crate) fn lose_unflushed(&mut self, b: BrokerId) {
        for partition in self.partitions.ids() {
            let part = &mut self.partitions[partition];
            let Some(r) = part.replica_on(b) else { continue };
            let rep = &mut part.replicas[r];
            let kept = page_cache::durable_end(rep, self.now, &self.scenario.broker_config.page_cache);
            if rep.leo() > kept {
                rep.truncate(kept);
                self.oracle.emit(self.now, Fact::Truncate { broker: b, partition, offset: kept });
            }
        }
    }

    pub(crate) fn on_controller_fence(&mut self, b: BrokerId, inc: Incarnation) {
        let broker = &self.brokers[b];
        let silent = !broker.up || self.broker_paused(b);
        if broker.inc == inc && silent && !broker.fenced {
            self.fence(b);
        }
        if self.brokers[b].registering && self.brokers[b].fenced {
            // The old session expired: the waiting incarnation's registration goes through.
            self.brokers[b].registering = false;
            self.register_restarted(b);
        }
    }

    /// A broker freezes (a long GC or VM pause): it stops heartbeating, so the
    /// controller fences it after `broker.session.timeout.ms` if the pause lasts.
    pub(crate) fn pause_broker(&mut self, b: BrokerId, d: Duration) {
        let inc = self.brokers[b].inc;
        let timeout = self.scenario.broker_config.broker_session_timeout;
        if d >= timeout {
            self.after(timeout, Event::ControllerFence { broker: b, inc });
        }
        self.after(d, Event::BrokerResume { broker: b, inc });
    }

    /// The pause ends (for the incarnation it paused: `World::step` checks).
    /// A broker fenced meanwhile registers again and follows the leaders
    /// elected without it (its stale requests get NotLeader).
    pub(crate) fn on_broker_resume(&mut self, b: BrokerId) {
        if !self.brokers[b].fenced || self.broker_paused(b) {
            return;
        }
        self.brokers[b].fenced = false;
        self.rejoin(b);
    }

    /// A broker comes back with its log and registers anew. KRaft's
    /// `ClusterControlManager.registerBroker` refuses a new incarnation
    /// (DuplicateBrokerRegistrationException) while the old one's session
    /// (`broker.session.timeout.ms`) is valid, so a quick restart waits for
    /// the controller to fence the old incarnation (`on_controller_fence`).
    pub(crate) fn restart_broker(&mut self, b: BrokerId) {
        let broker = &mut self.brokers[b];
        if broker.up || broker.registering {
            return;
        }
        if !broker.fenced {
            broker.registering = true;
            return;
        }
        self.register_restarted(b);
    }

    /// The registration of a restarted broker is accepted: it follows, or
    /// leads a partition that had no live in-sync replica.
    fn register_restarted(&mut self, b: BrokerId) {
        self.unclean_shutdown(b);
        let broker = &mut self.brokers[b];
        broker.up = true;
        broker.fenced = false;
        self.rejoin(b);
    }
}
