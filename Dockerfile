# streamsim in a container, for sweeps on a cluster's batch scheduler
# (docs/distributed.md). Build: docker build -t streamsim:0.1.0 .
#
# Stage 1 builds the release binary with the committed Cargo.lock; stage 2 is
# a slim runtime with the binary and the shipped scenarios only.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin streamsim \
 && strip target/release/streamsim

FROM debian:bookworm-slim
COPY --from=build /src/target/release/streamsim /usr/local/bin/streamsim
COPY --from=build /src/scenarios /opt/streamsim/scenarios
COPY --from=build /src/examples /opt/streamsim/examples
WORKDIR /opt/streamsim
# A non-root user; results go to a mounted volume it can write.
RUN useradd --uid 10001 --create-home streamsim
USER 10001
ENTRYPOINT ["streamsim"]
CMD ["--help"]
