# ppserver image: runs as the non-root "deno" user (uid 1993, gid 1993), keeps everything
# under /data. A bind mount must be writable by that uid: chown -R 1993:1993 /srv/putplace.
#   docker build -t putplace .
#   docker run -p 8000:8000 -v putplace-data:/data putplace
FROM denoland/deno:2.9.6

WORKDIR /app
RUN mkdir -p /data && chown deno:deno /data /app
USER deno

COPY --chown=deno:deno deno.json deno.lock ./
COPY --chown=deno:deno lib ./lib
COPY --chown=deno:deno server ./server
RUN deno install --frozen --entrypoint server/main.ts

ENV PUTPLACE_HOST=0.0.0.0 \
    PUTPLACE_PORT=8000 \
    PUTPLACE_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000

# Follows the port the server was given (PUTPLACE_PORT or PORT, as ppserver reads them).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
  CMD ["deno", "eval", "const port = Deno.env.get('PUTPLACE_PORT') || Deno.env.get('PORT') || '8000'; const r = await fetch(`http://127.0.0.1:${port}/health`); Deno.exit(r.ok ? 0 : 1)"]

ENTRYPOINT ["deno", "run", "--cached-only", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys", "--allow-run", "server/main.ts"]
CMD ["serve"]
