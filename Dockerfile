# The dev server and the ops tool in one small image, for localstack-compose.yml.
# (Lambdas are built by `sam build` / cargo-lambda, not by this file.)
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# BACKEND=aws in the image: the dev server's real backends are a feature (ADR 17).
RUN cargo build --release --locked -p dev-server -p ops --features dev-server/aws

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/dev-server /src/target/release/ops /usr/local/bin/
ENV DEV_SERVER_ADDR=0.0.0.0:3000
EXPOSE 3000
USER nobody
CMD ["dev-server"]
