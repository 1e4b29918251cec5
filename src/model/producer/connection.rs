//! A producer's connection to each broker, as Kafka's `NetworkClient` and
//! `ClusterConnectionStates` keep it: disconnected (backing off after a
//! failure, `reconnect.backoff.ms` doubling to `reconnect.backoff.max.ms`
//! with ±20% jitter), connecting (one round trip; no answer fails it after
//! `socket.connection.setup.timeout.ms`, which grows to its `.max.ms`), or
//! ready. The sender drains batches only to a ready connection
//! (`Sender.sendProducerData` skips nodes `NetworkClient.ready()` refuses),
//! so batches for a broker that refuses connections wait in the accumulator.

use crate::kernel::time::{Duration, Instant};
use crate::model::backoff::ExponentialBackoff;
use crate::model::ids::{BrokerId, Incarnation, ProducerId};
use crate::scenario::ProducerConfig;
use crate::world::event::{Connect, ConnectResponse, ConnectionClosed, Event, Node};
use crate::world::World;

/// Kafka's `RECONNECT_BACKOFF_JITTER` and `CONNECTION_SETUP_TIMEOUT_JITTER` (0.2).
const JITTER_PER_MILLE: u32 = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ConnState {
    #[default]
    Disconnected,
    Connecting,
    Ready,
}

/// One (producer, broker) connection.
#[derive(Clone, Copy, Debug, Default)]
pub struct Conn {
    pub state: ConnState,
    /// Numbers the connections: a connect or a disconnect moves it on, so
    /// answers and failures naming an older one are stale.
    pub gen: u32,
    /// Requests awaiting a response on it.
    pub in_flight: u32,
    /// The broker incarnation that accepted it: a broker whose machine
    /// rebooted since has no such socket and resets it (`World::deliver`).
    pub broker_inc: Incarnation,
    last_attempt: Instant,
    /// Reconnect backoff in force since the last failure (0: none yet).
    backoff: Duration,
    failed_attempts: u32,
    failed_connects: u32,
    /// KIP-219: the broker's last `throttle_time_ms` ends here; nothing is
    /// sent on the connection before (`ClusterConnectionStates.throttle`).
    pub throttled_until: Instant,
}

impl Conn {
    /// A new process's connection: disconnected, no backoff, a new number.
    pub fn fresh(&self) -> Conn {
        Conn { gen: self.gen.wrapping_add(1), ..Conn::default() }
    }
}

/// The producer's backoff curves, from its config.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConnBackoffs {
    reconnect: ExponentialBackoff,
    setup_timeout: ExponentialBackoff,
    /// The retry backoff of KIP-580 (`retry.backoff.ms` to `retry.backoff.max.ms`).
    pub retry: ExponentialBackoff,
}

impl ConnBackoffs {
    pub fn new(c: &ProducerConfig) -> ConnBackoffs {
        ConnBackoffs {
            reconnect: ExponentialBackoff::new(c.reconnect_backoff, c.reconnect_backoff_max, JITTER_PER_MILLE),
            setup_timeout: ExponentialBackoff::new(
                c.connection_setup_timeout,
                c.connection_setup_timeout_max,
                JITTER_PER_MILLE,
            ),
            retry: ExponentialBackoff::new(c.retry_backoff, c.retry_backoff_max, JITTER_PER_MILLE),
        }
    }
}

impl World {
    /// `NetworkClient.ready(node)`: whether the connection to `b` can carry
    /// a request now; if not, starts connecting when the reconnect backoff
    /// allows (`ClusterConnectionStates.canConnect`), or wakes the producer
    /// when it will.
    pub(super) fn conn_ready(&mut self, p: ProducerId, b: BrokerId) -> bool {
        let now = self.now;
        let conn = self.producers[p].conns[b];
        match conn.state {
            ConnState::Ready if conn.throttled_until > now => {
                self.wake_producer_at(p, conn.throttled_until);
                false
            }
            ConnState::Ready => true,
            ConnState::Connecting => false,
            ConnState::Disconnected => {
                let allowed = conn.last_attempt.add(conn.backoff);
                if allowed > now {
                    self.wake_producer_at(p, allowed);
                } else {
                    self.initiate_connect(p, b);
                }
                false
            }
        }
    }

    /// `NetworkClient.initiateConnect`: a new connection's handshake (TCP
    /// and ApiVersions folded into one round trip).
    fn initiate_connect(&mut self, p: ProducerId, b: BrokerId) {
        let pr = &mut self.producers[p];
        let inc = pr.inc;
        let conn = &mut pr.conns[b];
        conn.state = ConnState::Connecting;
        conn.last_attempt = self.now;
        conn.gen = conn.gen.wrapping_add(1);
        let gen = conn.gen;
        if self.lossy {
            // Only a network that drops messages can leave a connect unanswered.
            let failed = pr.conns[b].failed_connects;
            let timeout = pr.conn_backoffs.setup_timeout.backoff(failed, &mut pr.net_rng);
            self.after(timeout, Event::ConnectTimeout { producer: p, inc, broker: b, conn: gen });
        }
        self.send(Node::Producer(p), Node::Broker(b), Connect { producer: p, inc, conn: gen }.into());
    }

    /// The broker's side of a handshake: a live broker's kernel accepts
    /// (even while the process is paused); a dead one refuses (see `bounce`).
    pub(crate) fn on_connect(&mut self, b: BrokerId, m: Connect) {
        let broker_inc = self.brokers[b].inc;
        let reply = ConnectResponse { producer: m.producer, inc: m.inc, broker: b, broker_inc, conn: m.conn, ok: true };
        self.send(Node::Broker(b), Node::Producer(m.producer), reply.into());
    }

    /// The handshake's answer: ready (`ClusterConnectionStates.ready` resets
    /// both backoffs), or refused (`disconnected`: back off, then try again).
    pub(crate) fn on_connect_response(&mut self, m: ConnectResponse) {
        let (p, b) = (m.producer, m.broker);
        let conn = &mut self.producers[p].conns[b];
        if conn.gen != m.conn || conn.state != ConnState::Connecting {
            return;
        }
        if m.ok {
            conn.state = ConnState::Ready;
            conn.broker_inc = m.broker_inc;
            conn.failed_attempts = 0;
            conn.failed_connects = 0;
            conn.backoff = Duration::ZERO;
        } else {
            self.conn_failed(p, b);
        }
        self.try_send(p);
    }

    /// A response said `throttle_ms` (`NetworkClient.maybeThrottle`): the
    /// client refrains from sending to that broker until it has passed.
    pub(super) fn conn_throttle(&mut self, p: ProducerId, b: BrokerId, throttle_ms: u32) {
        if throttle_ms > 0 {
            let until = self.now.add(Duration::from_ms(u64::from(throttle_ms)));
            let conn = &mut self.producers[p].conns[b];
            conn.throttled_until = conn.throttled_until.max(until);
        }
    }

    /// `socket.connection.setup.timeout.ms` passed with no answer.
    pub(crate) fn on_connect_timeout(&mut self, p: ProducerId, b: BrokerId, gen: u32) {
        let conn = &self.producers[p].conns[b];
        if conn.gen != gen || conn.state != ConnState::Connecting {
            return;
        }
        self.conn_failed(p, b);
        self.try_send(p);
    }

    /// A connection (or its attempt) failed now: `ClusterConnectionStates.disconnected`.
    pub(super) fn conn_failed(&mut self, p: ProducerId, b: BrokerId) {
        let now = self.now;
        let pr = &mut self.producers[p];
        let conn = &mut pr.conns[b];
        let connecting = conn.state == ConnState::Connecting;
        conn.backoff = pr.conn_backoffs.reconnect.backoff(conn.failed_attempts, &mut pr.net_rng);
        conn.failed_attempts += 1;
        conn.failed_connects = if connecting { conn.failed_connects + 1 } else { 0 };
        conn.last_attempt = now;
        conn.state = ConnState::Disconnected;
        conn.gen = conn.gen.wrapping_add(1);
    }

    /// The broker's process died: its kernel resets every established
    /// connection, and each client learns one hop later.
    pub(crate) fn reset_connections(&mut self, b: BrokerId) {
        for p in self.producers.ids() {
            let pr = &self.producers[p];
            let conn = pr.conns[b];
            if pr.up && conn.state == ConnState::Ready {
                let msg = ConnectionClosed { producer: p, inc: pr.inc, broker: b, conn: conn.gen };
                self.send(Node::Broker(b), Node::Producer(p), msg.into());
            }
        }
    }

    /// The reset reaches the producer: the connection and every request on it fail.
    pub(crate) fn on_connection_closed(&mut self, m: ConnectionClosed) {
        self.disconnect(m.producer, m.broker, m.conn, None);
        self.try_send(m.producer);
    }
}

#[cfg(test)]
mod tests {
    use crate::kernel::time::{Duration, Instant};
    use crate::model::ids::{BrokerId, ProducerId};
    use crate::scenario::load_str;
    use crate::world::World;

    use super::ConnState;

    /// KIP-219, Kafka's answer in NetworkClient.maybeThrottle and
    /// ClusterConnectionStates.throttle / isThrottled: a response with
    /// throttle_time_ms > 0 makes the client hold every request to that
    /// broker until the time has passed (`ready()` is false, and the
    /// sender's poll wakes at the end: `pollDelayMs`); other brokers are not
    /// affected.
    #[test]
    fn network_client_throttle_holds_requests_to_that_broker_until_throttle_time_ms_passes() {
        let src = "name: t\nduration: 1s\nbrokers: 2\ntopics: [{ name: t, partitions: 2 }]\nproducers: [{ name: p, rate: 10/s }]\n";
        let mut w = World::new(load_str(src, "t.yaml").expect("loads").scenario);
        let (p, b, other) = (ProducerId::new(0), BrokerId::new(0), BrokerId::new(1));
        w.now = Instant::ZERO.add(Duration::from_ms(100));
        for x in [b, other] {
            w.producers[p].conns[x].state = ConnState::Ready;
        }
        assert!(w.conn_ready(p, b), "a ready connection carries requests");
        w.conn_throttle(p, b, 250);
        assert!(!w.conn_ready(p, b), "throttled: nothing is sent to that broker");
        assert_eq!(
            w.producers[p].wake_at,
            Some(Instant::ZERO.add(Duration::from_ms(350))),
            "the sender wakes when it ends"
        );
        assert!(w.conn_ready(p, other), "another broker's connection is not throttled");
        w.now = Instant::ZERO.add(Duration::from_ms(349));
        assert!(!w.conn_ready(p, b), "still 1 ms to go");
        w.now = Instant::ZERO.add(Duration::from_ms(350));
        assert!(w.conn_ready(p, b), "sends again once throttle_time_ms has passed");
        // A shorter throttle later does not cut a longer one short.
        w.conn_throttle(p, b, 500);
        w.conn_throttle(p, b, 10);
        assert_eq!(w.producers[p].conns[b].throttled_until, Instant::ZERO.add(Duration::from_ms(850)));
    }
}
