//! Faults as they happen: crashes, power loss, restarts, pauses, starts and
//! stops, network partitions; and which process a fault target names.

use crate::model::ids::BrokerId;
use crate::oracle::fact::{Entity, Fact};
use crate::scenario::{FaultAction, Target};
use crate::world::{Event, Node, World};

/// How a process goes down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashKind {
    /// The process dies and its machine's kernel stays: the port refuses
    /// connects at once and established connections are reset (RST).
    Process,
    /// The machine is gone (power loss, a kernel panic, a pulled cable): no
    /// RST, nothing answers; clients learn from their own timeouts.
    Host,
}

impl World {
    pub(super) fn on_fault(&mut self, i: usize) {
        self.faults_done = self.faults_done.max(i + 1);
        let action = self.scenario.faults[i].action.clone();
        match action {
            FaultAction::PowerLoss(t) => {
                let Target::Broker(b) = t else { unreachable!("the loader allows power loss of brokers only") };
                self.lose_unflushed(BrokerId::new(b));
                self.crash(t, CrashKind::Process);
            }
            FaultAction::Crash(t) => self.crash(t, CrashKind::Process),
            FaultAction::HostCrash(t) => {
                self.hosts_crashed = true;
                // The machine's memory goes with it: the page cache too.
                if let Target::Broker(b) = t {
                    self.lose_unflushed(BrokerId::new(b));
                }
                self.crash(t, CrashKind::Host);
            }
            FaultAction::Restart(t) => {
                let entity = self.target_entity(t);
                self.oracle.emit(self.now, Fact::Restart(entity));
                match entity {
                    Entity::Broker(b) => {
                        // The machine boots: its kernel answers again (refusing
                        // until the broker registers).
                        self.brokers[b].host_down = false;
                        self.restart_broker(b)
                    }
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
            FaultAction::Slow { target, span, processing } => {
                let Entity::Consumer(c) = self.target_entity(target) else {
                    unreachable!("the loader slows consumers only")
                };
                // A later slow fault of the same consumer takes over from an earlier one.
                self.slow.retain(|(s, _, _)| *s != c);
                self.slow.push((c, self.now.add(span), processing));
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

    /// The node (by `node_index`) whose process `event` runs in, when that
    /// process is frozen now or still has deferred events to run first: the
    /// event must wait behind them (a connection stays FIFO).
    pub(super) fn deferral(&self, event: &Event) -> Option<usize> {
        let i = self.node_index(self.event_node(event)?);
        let waiting = !self.deferred.is_empty() && self.deferred.iter().any(|(n, _)| *n as usize == i);
        if !(self.paused_until[i] > self.now || waiting) {
            return None;
        }
        // Data a partition holds is not in the socket yet: it stays behind what is held.
        match *event {
            Event::Deliver { from, to, .. } if self.stalled(from, to) => None,
            _ => Some(i),
        }
    }

    /// A frozen process's event waits, in the order it came, until the pause
    /// ends. One queue per node, not a re-push into the kernel's heap at the
    /// pause's end: a second, overlapping pause would re-queue early events
    /// behind later ones and reorder a connection.
    pub(super) fn defer(&mut self, i: usize, event: Event) {
        if let Some((_, q)) = self.deferred.iter_mut().find(|(n, _)| *n as usize == i) {
            return q.push_back(event);
        }
        self.deferred.push((i as u32, std::collections::VecDeque::from([event])));
        let until = self.paused_until[i].max(self.now);
        self.at(until, Event::PauseEnd { node: i as u32 });
    }

    /// The pause of node `i` should be over: its deferred events run now, in
    /// their order, unless another pause extended it.
    pub(super) fn on_pause_end(&mut self, i: usize) {
        let until = self.paused_until[i];
        if until > self.now {
            return self.at(until, Event::PauseEnd { node: i as u32 });
        }
        let Some(k) = self.deferred.iter().position(|(n, _)| *n as usize == i) else { return };
        let (_, queue) = self.deferred.swap_remove(k);
        for event in queue {
            self.events += 1;
            self.step(event);
        }
    }

    /// The process `event` runs in, if it is one that can be paused.
    fn event_node(&self, event: &Event) -> Option<Node> {
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
            | Event::AutoCommitTick { consumer, .. }
            | Event::PollTimerCheck { consumer, .. }
            | Event::ConsumerWake { consumer, .. }
            | Event::ProcessDone { consumer, .. }
            | Event::WorkerDone { consumer, .. }
            | Event::ConsumerFetchTimeout { consumer, .. } => Node::Consumer(consumer),
            // Parked fetches wait at the leader; fetch loops run on the follower.
            Event::ReplicaFetchExpired { leader, .. } => Node::Broker(leader),
            Event::ConsumerFetchExpired { broker, .. } => Node::Broker(broker),
            Event::ReplicaFetchRetry { follower, .. } | Event::ReplicaFetchTimeout { follower, .. } => {
                Node::Broker(follower)
            }
            _ => return None,
        };
        Some(node)
    }

    /// Whether broker `b` is frozen in a pause right now.
    pub(crate) fn broker_paused(&self, b: BrokerId) -> bool {
        self.paused_until[self.node_index(Node::Broker(b))] > self.now
    }

    fn crash(&mut self, t: Target, kind: CrashKind) {
        let entity = self.target_entity(t);
        self.oracle.emit(self.now, Fact::Crash(entity));
        // A crash ends a pause: the frozen process is simply gone.
        let i = self.node_index(self.target_node(t));
        self.paused_until[i] = self.now;
        match entity {
            Entity::Broker(b) => self.crash_broker(b, kind),
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

#[cfg(test)]
mod tests {
    use crate::kernel::time::{Duration, Instant};
    use crate::model::ids::{BrokerId, ProducerId};
    use crate::model::producer::connection::{Conn, ConnState};
    use crate::world::World;

    /// One broker leading the only partition, a producer whose requests
    /// time out after 2 s; broker-0 goes down at 1 s by `fault` for good.
    fn world(fault: &str) -> World {
        let yaml = format!(
            "name: t
duration: 30s
brokers: 1
network: {{ latency: 1ms }}
topics: [{{ name: t, partitions: 1, replication.factor: 1 }}]
producers: [{{ name: p, rate: {{ constant: 100/s }}, keys: 10, config: {{ request.timeout.ms: 2000 }} }}]
faults:
  - {{ at: 1s, {fault}: broker-0 }}
"
        );
        World::new(crate::scenario::load_str(&yaml, "t.yaml").unwrap_or_else(|e| panic!("{e}")).scenario)
    }

    fn conn_at(w: &mut World, ms: u64) -> Conn {
        w.run_until(Instant::ZERO.add(Duration::from_ms(ms)));
        w.producers[ProducerId::new(0)].conns[BrokerId::new(0)]
    }

    /// Kafka's answer (`NetworkClient.handleTimedOutConnections`,
    /// `ClusterConnectionStates.isConnectionSetupTimeout`, KIP-601): after a
    /// host crash nothing answers a SYN, so a connect stays in CONNECTING
    /// until socket.connection.setup.timeout.ms (10 s, ±20% jitter) expires.
    /// Here the request in flight at the crash times out at 3 s
    /// (request.timeout.ms 2 s: the connection is closed), the producer
    /// reconnects 50 ms later, and that connect is still pending at 10.9 s
    /// and given up by 15.2 s.
    #[test]
    fn network_client_connects_to_a_crashed_host_wait_for_socket_connection_setup_timeout() {
        let mut w = world("host_crash");
        assert_eq!(conn_at(&mut w, 2_900).state, ConnState::Ready, "no reset: the dead host sends nothing");
        let connecting = conn_at(&mut w, 3_500);
        assert_eq!(connecting.state, ConnState::Connecting, "the request timed out; reconnecting");
        let later = conn_at(&mut w, 10_900);
        assert_eq!((later.state, later.gen), (ConnState::Connecting, connecting.gen), "one connect, unanswered");
        let given_up = conn_at(&mut w, 15_200);
        assert_ne!((given_up.state, given_up.gen), (ConnState::Connecting, connecting.gen));
    }

    /// Kafka's answer for a process crash: the machine's kernel resets the
    /// connection (the client sees it at once, `Selector` reports the
    /// disconnect) and refuses each connect, so the client retries every
    /// reconnect.backoff.ms (50 ms doubling to 1 s) and never waits for a
    /// timeout.
    #[test]
    fn network_client_a_crashed_process_resets_and_refuses_at_once() {
        let mut w = world("crash");
        assert_ne!(conn_at(&mut w, 1_010).state, ConnState::Ready, "reset at once");
        let at_3_5 = conn_at(&mut w, 3_500);
        let at_5 = conn_at(&mut w, 5_000);
        assert!(at_5.gen.wrapping_sub(at_3_5.gen) >= 2, "refused connects, tried again within the backoff");
    }
}
