"""The toy streaming pipeline in SimPy: one producer at a constant rate, six
partitions (a FIFO store each), three consumers each owning two partitions
(one reading loop per partition) and spending PROCESS seconds per record.
Prints records per wall second."""
import sys
import time

import simpy

RATE, PARTITIONS, CONSUMERS, PROCESS = 10_000.0, 6, 3, 0.0


def run(records):
    env = simpy.Environment()
    logs = [simpy.Store(env) for _ in range(PARTITIONS)]
    state = {"done": 0}

    def producer():
        for i in range(records):
            logs[i % PARTITIONS].put(i)
            yield env.timeout(1.0 / RATE)

    def consumer(owned):
        # One reading loop per owned partition (a consumer fetches each of its partitions).
        while True:
            yield logs[owned].get()
            state["done"] += 1
            if PROCESS:
                yield env.timeout(PROCESS)

    env.process(producer())
    for p in range(PARTITIONS):
        env.process(consumer(p))
    started = time.perf_counter()
    env.run(until=records / RATE + 1.0)
    wall = time.perf_counter() - started
    return state["done"], wall


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    done, wall = run(n)
    print(f"simpy pipeline: {done} records in {wall:.2f} s = {done / wall:,.0f} records/s")
