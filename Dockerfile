# syntax=docker/dockerfile:1

# Build on the build machine's platform and cross-compile for the target one;
# the binaries are static, so no emulation is needed.
FROM --platform=$BUILDPLATFORM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev

WORKDIR /src

# Dependencies change less often than the code: keep them in their own layer.
# The controller's command is a module of its own (see its go.mod).
COPY go.mod go.sum ./
COPY cmd/gitseal-controller/go.mod cmd/gitseal-controller/go.sum ./cmd/gitseal-controller/
RUN go mod download && go -C cmd/gitseal-controller mod download

COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    export CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH GOFLAGS=-buildvcs=false \
        LDFLAGS="-s -w -X github.com/gitseal/gitseal/internal/version.Version=${VERSION}" && \
    go build -trimpath -ldflags "$LDFLAGS" -o /out/ ./cmd/gitseal && \
    go -C cmd/gitseal-controller build -trimpath -ldflags "$LDFLAGS" -o /out/ .

# `make image` builds the same image without Docker (hack/image), on a base
# made from scratch with what a static binary uses from this one.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=builder /out/gitseal /out/gitseal-controller /usr/local/bin/
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/gitseal-controller"]
