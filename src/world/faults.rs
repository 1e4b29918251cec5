//! Faults as they happen: crashes, power loss, restarts, pauses, starts and
//! stops, network partitions; and which process a fault target names.

use crate::model::ids::BrokerId;
use crate::oracle::fact::{Entity, Fact};
use crate::scenario::{FaultAction, Target};
use crate::world::{Event, Node, World};

use crate::kernel::time::Instant;

impl World {
    pub(super) fn on_fault(&mut self, i: usize) {
        self.faults_done = self.faults_done.max(i + 1);
        let action = self.scenario.faults[i].action.clone();
        match action {
            FaultAction::PowerLoss(t) => {
                let Target::Broker(b) = t else { unreachable!("the loader allows power loss of brokers only") };
                self.lose_unflushed(BrokerId::new(b));
                self.crash(t);
            }
            FaultAction::Crash(t) => self.crash(t),
            FaultAction::Restart(t) => {
                let entity = self.target_entity(t);
                self.oracle.emit(self.now, Fact::Restart(entity));
                match entity {
                    Entity::Broker(b) => self.restart_broker(b),
                    Entity::Producer(p) => self.restart_producer(p),
                    Entity::Consumer(c) => self.restart_consumer(c),
                }
            }
            FaultAction::Pause(t, d) => {
                let entity = self.target_entity(t);
                self.oracle.emit(self.now, Fact::Pause { entity, us: d.us() });
                let i = self.node_index(self.target_node(t));
                self.paused_until[i] = self.paused_until[i].max(self.now.add(d));
                if let Entity::Broker(b) = entity {
                    self.pause_broker(b, d);
                }
            }
            FaultAction::Start(t) => {
                let entity = self.target_entity(t);
                self.oracle.emit(self.now, Fact::Start(entity));
                let Entity::Consumer(c) = entity else { unreachable!("the loader starts consumers only") };
                self.start_stopped_consumer(c);
            }
            FaultAction::Stop(t) => {
                let entity = self.target_entity(t);
                self.oracle.emit(self.now, Fact::Stop(entity));
                let Entity::Consumer(c) = entity else { unreachable!("the loader stops consumers only") };
                self.stop_consumer(c);
            }
            FaultAction::Scale(..) => unreachable!("the loader turns scale into starts and stops"),
            FaultAction::Partition(targets, d) => {
                let until = self.now.add(d);
                let nodes: Vec<usize> = targets.iter().map(|&t| self.node_index(self.target_node(t))).collect();
                self.oracle.emit(self.now, Fact::NetworkPartition { entities: nodes.len() as u64, us: d.us() });
                for i in 0..nodes.len() {
                    for j in i + 1..nodes.len() {
                        self.cuts.push((nodes[i], nodes[j], until));
                    }
                }
            }
        }
    }

    /// When `event` belongs to a paused process, the time the pause ends.
    pub(super) fn paused_owner(&self, event: &Event) -> Option<Instant> {
        let node = match *event {
            // The kernel of a paused broker still completes handshakes.
            Event::Deliver { msg: crate::world::Msg::Connect(_), .. } => return None,
            Event::Deliver { to, .. } => to,
            Event::ProducerArrival { producer, .. }
            | Event::LingerExpired { producer, .. }
            | Event::ProducerWake { producer, .. }
            | Event::RequestTimeout { producer, .. }
            | Event::ConnectTimeout { producer, .. }
            | Event::TxnCommitDue { producer, .. }
            | Event::SendBlocked { producer, .. }
            | Event::OfflineFlush { producer, .. } => Node::Producer(producer),
            Event::HeartbeatTick { consumer, .. }
            | Event::ConsumerWake { consumer, .. }
            | Event::ProcessDone { consumer, .. }
            | Event::WorkerDone { consumer, .. }
            | Event::ConsumerFetchTimeout { consumer, .. } => Node::Consumer(consumer),
            // Parked fetches wait at the leader; fetch loops run on the follower.
            Event::ReplicaFetchExpired { partition, .. } | Event::ConsumerFetchExpired { partition, .. } => {
                match self.partitions[partition].leader_broker() {
                    Some(b) => Node::Broker(b),
                    None => return None,
                }
            }
            Event::ReplicaFetchRetry { partition, replica, .. }
            | Event::ReplicaFetchTimeout { partition, replica, .. } => {
                Node::Broker(self.partitions[partition].replicas[replica].broker)
            }
            _ => return None,
        };
        let until = self.paused_until[self.node_index(node)];
        (until > self.now).then_some(until)
    }

    /// Whether broker `b` is frozen in a pause right now.
    pub(crate) fn broker_paused(&self, b: BrokerId) -> bool {
        self.paused_until[self.node_index(Node::Broker(b))] > self.now
    }

    fn crash(&mut self, t: Target) {
        let entity = self.target_entity(t);
        self.oracle.emit(self.now, Fact::Crash(entity));
        // A crash ends a pause: the frozen process is simply gone.
        let i = self.node_index(self.target_node(t));
        self.paused_until[i] = self.now;
        match entity {
            Entity::Broker(b) => self.crash_broker(b),
            Entity::Producer(p) => self.crash_producer(p),
            Entity::Consumer(c) => self.crash_consumer(c),
        }
    }

    fn target_node(&self, t: Target) -> Node {
        match self.target_entity(t) {
            Entity::Broker(b) => Node::Broker(b),
            Entity::Producer(p) => Node::Producer(p),
            Entity::Consumer(c) => Node::Consumer(c),
        }
    }

    /// The process a fault target names, by its global index.
    fn target_entity(&self, t: Target) -> Entity {
        match t {
            Target::Broker(b) => Entity::Broker(BrokerId::new(b)),
            Target::Producer(s, i) => {
                let first = self.producers.position(|p| p.spec == s as u32).expect("producer spec exists");
                Entity::Producer(crate::model::ids::ProducerId::new(first.raw() + i))
            }
            Target::Consumer(s, i) => {
                Entity::Consumer(self.groups[crate::model::ids::GroupId::new(s as u32)].first_consumer.plus(i))
            }
        }
    }
}
