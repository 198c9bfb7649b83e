# syntax=docker/dockerfile:1
#
# Shiliu server image: a static Go binary on distroless (CA certificates and tzdata included,
# no shell, runs as the non-root user 65532).
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t shiliu .
#
# Configuration is by environment (SHILIU_*; see configs/shiliu.example.yaml and docs/deploy.md):
#
#   docker run -p 8080:8080 -e SHILIU_MODE=prod \
#     -e SHILIU_DATABASE_DSN='mysql://shiliu:…@db:3306/shiliu' -e SHILIU_REDIS_URL=redis://redis:6379/0 \
#     -e SHILIU_TOKEN_SECRET=… -e SHILIU_DATA_KEY=… -e SHILIU_WECHAT_APPID=… -e SHILIU_WECHAT_SECRET=… \
#     shiliu
#
# Trial (SQLite file + embedded Redis, nothing else needed): docker run -p 8080:8080 -v shiliu-data:/data shiliu
# (as a container the trial listens on all interfaces: keep it on a private network.)
# Operator commands use the same image:  docker run --rm -e … shiliu migrate

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src

# Dependencies first: this layer stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download

COPY server ./server
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH:-amd64} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /shiliu ./server/cmd/shiliu

# The data directory, owned by the runtime user (SQLite file in trial mode, uploads/).
RUN mkdir -p /out/data && chown 65532:65532 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /shiliu /shiliu
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
# The defaults are relative to the working directory: database.dsn "sqlite:data/shiliu.db" becomes
# /data/shiliu.db and uploads.dir "data/uploads" becomes /data/uploads.
WORKDIR /
# /data is for the SQLite trial mode (database file) and for uploaded files while they are kept on
# local disk (uploads.dir). With MySQL in production only data/uploads is written here: mount a
# volume shared by all instances, or set SHILIU_UPLOADS_DIR to one (see docs/deploy.md).
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/shiliu"]
CMD ["serve"]
