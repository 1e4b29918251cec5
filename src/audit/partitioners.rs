//! Where each client sends a key: the Java client's murmur2 (`Utils.murmur2`, in
//! `model::partitioner`) against librdkafka's default `consistent_random`, a CRC32 of the key
//! (rdkafka_msg.c `rd_kafka_msg_partitioner_consistent_random` → rdcrc32.h, the IEEE
//! polynomial, reflected). Mixed producers of one topic split a key's records.

use crate::model::partitioner::{key_text, partition_for_key};

/// CRC-32 (IEEE 802.3, reflected, initial and final XOR 0xffffffff), as librdkafka's rd_crc32.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

/// librdkafka's consistent_random for a non-empty key: `rd_crc32(key) % partition_cnt`.
pub fn consistent_partition(key: &[u8], partitions: u32) -> u32 {
    crc32(key) % partitions
}

/// How many of the workload's keys the two partitioners place differently, and one example.
pub fn mismatch(keys: u32, partitions: u32) -> (u32, Option<(String, u32, u32)>) {
    let mut n = 0;
    let mut example = None;
    for i in 0..keys {
        let key = key_text(i);
        let (java, rdk) =
            (partition_for_key(key.as_bytes(), partitions), consistent_partition(key.as_bytes(), partitions));
        if java != rdk {
            n += 1;
            example.get_or_insert((key, java, rdk));
        }
    }
    (n, example)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CRC-32 check value of "123456789" is 0xcbf43926 (the IEEE polynomial librdkafka's
    /// rdcrc32.h generates with `crc_reflect` and the 0xffffffff XORs).
    #[test]
    fn crc32_rdcrc32_h_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn murmur2_and_crc32_split_most_keys() {
        let (n, ex) = mismatch(1000, 12);
        assert!(n > 800, "{n}");
        let (key, java, rdk) = ex.unwrap();
        assert_ne!(java, rdk, "{key}");
    }
}
