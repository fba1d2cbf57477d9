// Node-RED settings for the peer benchmark (benchmarks/peer_nodered.py): everything the flows need
// comes from the environment the benchmark starts Node-RED with.
module.exports = {
    uiHost: "127.0.0.1",
    uiPort: Number(process.env.NR_PORT),
    flowFile: "flows.json",
    credentialSecret: false,      // flows_cred.json is written in plain text by the benchmark
    httpAdminRoot: "/admin",
    httpNodeRoot: "/",
    logging: { console: { level: process.env.NR_LOG || "warn", metrics: false, audit: false } },
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
    editorTheme: { projects: { enabled: false } },
    functionExternalModules: false,
};
