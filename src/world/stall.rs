//! Network partitions as TCP sees them: segments across a cut are lost and
//! retransmitted, so a connection stalls instead of losing messages.
//!
//! A partition drops packets; it does not close connections. The sender's
//! TCP keeps the unacknowledged data and retransmits the oldest segment when
//! its retransmission timer fires, the timeout doubling each time (RFC 6298
//! §5.5, Linux `tcp_retransmit_timer`). Linux starts from `TCP_RTO_MIN`,
//! 200 ms, on a fast network (the RTO is max(srtt + 4·rttvar, 200 ms),
//! `include/net/tcp.h`), from `TCP_TIMEOUT_INIT`, 1 s, for a SYN, and caps it
//! at `TCP_RTO_MAX`, 120 s. Data behind the lost segment waits in the
//! stream. So what was sent across a partition arrives, in order, at the
//! first retransmission after the heal, one latency later: a 5 s cut costs
//! 6.2 s (retransmissions at 0.2, 0.6, 1.4, 3.0 and 6.2 s), not a timeout.
//! Only a timer above TCP breaks the connection: the client's
//! `request.timeout.ms` (`NetworkClient.handleTimedOutRequests` closes it),
//! `socket.connection.setup.timeout.ms` for a handshake, and the broker's
//! follower-lag and session timers.
//!
//! One stall per direction of a link (each direction's data has its own
//! timer), held here rather than as events in flight, so a partition that
//! is extended or cut again keeps the connection's order.

use std::collections::VecDeque;

use crate::kernel::time::Duration;
use crate::world::{Event, Msg, Node, World};

/// Linux's `TCP_RTO_MIN`: the retransmission timeout of an established
/// connection on a network much faster than 200 ms.
pub const RTO_MIN: Duration = Duration::from_ms(200);
/// Linux's `TCP_TIMEOUT_INIT` (RFC 6298 §2.1): the first SYN's timeout.
pub const RTO_SYN: Duration = Duration::from_ms(1_000);
/// Linux's `TCP_RTO_MAX`.
pub const RTO_MAX: Duration = Duration::from_secs(120);

/// The messages of one direction of a link held by a partition.
#[derive(Debug)]
pub(crate) struct Stall {
    from: u32,
    to: u32,
    /// The timeout in force: the time from the last retransmission to the next.
    rto: Duration,
    held: VecDeque<(Node, Node, Msg)>,
}

impl World {
    /// Whether a message from `from` to `to` that reaches its receiver now
    /// is held instead: the link is cut, or earlier data on it still waits
    /// for a retransmission (the stream keeps its order).
    #[inline(never)]
    pub(super) fn hold(&mut self, from: Node, to: Node, msg: Msg) -> Result<(), Msg> {
        let (a, b) = (self.node_index(from) as u32, self.node_index(to) as u32);
        if let Some(s) = self.stalls.iter_mut().find(|s| s.from == a && s.to == b) {
            s.held.push_back((from, to, msg));
            return Ok(());
        }
        if !self.is_cut(a as usize, b as usize) {
            return Err(msg);
        }
        // The segment is lost: the sender's retransmission timer starts.
        let rto = if matches!(msg, Msg::Connect(_) | Msg::ConnectResponse(_)) { RTO_SYN } else { RTO_MIN };
        self.stalls.push(Stall { from: a, to: b, rto, held: VecDeque::from([(from, to, msg)]) });
        self.after(rto, Event::Retransmit { from: a, to: b });
        Ok(())
    }

    /// Whether a link with held data bypasses a pause of its receiver: the
    /// data is not there yet, and must stay behind what is held.
    pub(super) fn stalled(&self, from: Node, to: Node) -> bool {
        if self.stalls.is_empty() {
            return false;
        }
        let (a, b) = (self.node_index(from) as u32, self.node_index(to) as u32);
        self.stalls.iter().any(|s| s.from == a && s.to == b)
    }

    /// The retransmission timer of link `from → to` fires: still cut, it
    /// doubles; healed, everything held goes out again, in order, and
    /// arrives one latency later.
    pub(super) fn on_retransmit(&mut self, from: u32, to: u32) {
        let Some(i) = self.stalls.iter().position(|s| s.from == from && s.to == to) else { return };
        if self.is_cut(from as usize, to as usize) {
            let s = &mut self.stalls[i];
            s.rto = Duration::from_us(s.rto.us().saturating_mul(2)).min(RTO_MAX);
            let rto = s.rto;
            return self.after(rto, Event::Retransmit { from, to });
        }
        let stall = self.stalls.swap_remove(i);
        for (from, to, msg) in stall.held {
            self.schedule(from, to, msg);
        }
    }

    /// Whether a partition separates nodes `a` and `b` (by `node_index`)
    /// now; forgets healed ones.
    pub(super) fn is_cut(&mut self, a: usize, b: usize) -> bool {
        if self.cuts.is_empty() {
            return false;
        }
        let now = self.now;
        self.cuts.retain(|&(_, _, until)| until > now);
        self.cuts.iter().any(|&(x, y, _)| (x == a && y == b) || (x == b && y == a))
    }

    /// Messages held across partitions now (for the memory budget and tests).
    pub fn held_messages(&self) -> usize {
        self.stalls.iter().map(|s| s.held.len()).sum()
    }
}
