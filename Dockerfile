# mailprobe in a container: built with the pinned toolchain, run from a distroless image as a
# non-root user (no shell, no package manager). The default command is the Prometheus exporter
# listening on every interface of the container; other arguments run once:
#   docker build -t mailprobe .
#   docker run --rm -p 9117:9117 mailprobe
#   docker run --rm mailprobe check alice@example.com --format json
FROM rust:1.95-bookworm AS build
WORKDIR /src
# What the build reads: the manifest and lock, build.rs and the provider database it embeds, the
# sources, and benches/ (the manifest names a bench target, which cargo must find).
COPY Cargo.toml Cargo.lock build.rs ./
COPY src src
COPY provider-db provider-db
COPY benches benches
RUN cargo build --release --locked --bin mailprobe

# The runtime needs glibc and nothing else: every certificate is checked against the Mozilla roots
# built into the binary (webpki-roots) or the --ca-file given, never the system's CA store.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/mailprobe /usr/local/bin/mailprobe
# Numeric (distroless "nonroot" is 65532): Kubernetes runAsNonRoot can verify only a numeric user.
USER 65532:65532
EXPOSE 9117
ENTRYPOINT ["/usr/local/bin/mailprobe"]
CMD ["serve", "--listen", "0.0.0.0:9117"]
