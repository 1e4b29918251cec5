"""M/M/1 in SimPy: Poisson arrivals (rate LAMBDA), one server with exponential
service (rate MU). Prints customers served per wall second and the mean number
in the system, for comparison with streamsim's one-partition M/M/1 scenario."""
import random
import sys
import time

import simpy

LAMBDA, MU = 100.0, 125.0


def run(customers, seed=11):
    rng = random.Random(seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    state = {"in_system": 0, "area": 0.0, "last": 0.0, "done": 0}

    def account():
        state["area"] += state["in_system"] * (env.now - state["last"])
        state["last"] = env.now

    def customer():
        account()
        state["in_system"] += 1
        with server.request() as req:
            yield req
            yield env.timeout(rng.expovariate(MU))
        account()
        state["in_system"] -= 1
        state["done"] += 1

    def source():
        for _ in range(customers):
            env.process(customer())
            yield env.timeout(rng.expovariate(LAMBDA))

    env.process(source())
    started = time.perf_counter()
    env.run()
    wall = time.perf_counter() - started
    return state["done"], wall, state["area"] / env.now


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    done, wall, mean = run(n)
    print(f"simpy mm1: {done} customers in {wall:.2f} s = {done / wall:,.0f} customers/s; mean in system {mean:.3f} (theory 4)")
