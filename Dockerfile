# Dockerfile: anilist-gpt and Caddy in one Debian bookworm image (fly.production.toml).
# Caddy listens on :8080 in plain HTTP (DOMAIN=:8080): Fly's edge terminates TLS.

# Build: the autotools build, installed into /out.
FROM debian:bookworm-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential autoconf automake pkg-config \
        libfcgi-dev libjson-c-dev libcurl4-openssl-dev libpq-dev \
        libmemcached-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN autoreconf -fi \
    && ./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
    && make -j"$(nproc)" \
    && make install DESTDIR=/out

# Runtime: the binary, its libraries, Caddy, memcached, the entrypoint.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates caddy memcached \
        libfcgi0ldbl libjson-c5 libcurl4 libpq5 libmemcached11 libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /var/lib/anilist-gpt \
        --shell /usr/sbin/nologin anilist
COPY --from=build /out/ /
COPY caddy/Caddyfile caddy/routes.caddy /etc/caddy/
COPY scripts/docker-entrypoint /usr/local/bin/docker-entrypoint
ENV DOMAIN=:8080 \
    LISTEN=unix:/tmp/anilist-gpt/anilist-gpt.sock \
    XDG_DATA_HOME=/var/lib/anilist-gpt \
    XDG_CONFIG_HOME=/var/lib/anilist-gpt
USER anilist
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/docker-entrypoint"]
