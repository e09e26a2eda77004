// Clientside callbacks of IsoGraph Explorer (loaded by Dash from assets/).
// Each tab's ID for the shared job state (job-running-shared, in localStorage).
window.isographTab = window.isographTab || Math.random().toString(36).slice(2);
// A closed tab's job is gone with it (nobody will see its result): its entry leaves the shared state.
window.addEventListener("beforeunload", function () {
    try {
        const shared = JSON.parse(window.localStorage.getItem("job-running-shared") || "{}");
        if (shared && shared[window.isographTab]) {
            delete shared[window.isographTab];
            window.localStorage.setItem("job-running-shared", JSON.stringify(shared));
        }
    } catch (e) { /* storage unavailable: nothing shared */ }
});
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    isograph: {
        // What is shown -> the page's URL: each control's value under its query name (the last argument
        // lists the names; JSON for objects such as a table's filter model; an empty value leaves the URL).
        // history.replaceState changes the address bar and the history entry only: the page is not rebuilt
        // and no navigation happens, so the URL can be shared or bookmarked and the page rebuilds from it.
        syncUrl: function () {
            const args = Array.prototype.slice.call(arguments);
            const names = args[args.length - 1] || [];
            const url = new URL(window.location.href);
            names.forEach(function (name, i) {
                const value = args[i];
                const empty = value === null || value === undefined || value === ""
                    || (typeof value === "object" && Object.keys(value).length === 0);
                if (empty) {
                    url.searchParams.delete(name);
                } else {
                    url.searchParams.set(name, typeof value === "object" ? JSON.stringify(value) : String(value));
                }
            });
            if (url.href !== window.location.href) {
                window.history.replaceState(window.history.state, "", url.href);
            }
            return window.dash_clientside.no_update;
        },
        // This tab's job state merged into every tab's: {tab: {running: true, at: ms}} for each tab whose job
        // runs; entries older than the job time budget are dropped (the server stops such a job anyway).
        shareJobState: function (running, shared, budgetSeconds) {
            const now = Date.now();
            const out = {};
            Object.entries(shared || {}).forEach(function (item) {
                const entry = item[1];
                if (item[0] !== window.isographTab && entry && entry.running
                        && now - entry.at < (budgetSeconds || 600) * 1000) {
                    out[item[0]] = entry;
                }
            });
            if (running) {
                out[window.isographTab] = {running: true, at: now};
            }
            return out;
        },
        // An export-menu click -> {graph, format, figure, filename} for the background export job.
        // Built in the browser so that only the clicked figure is sent to the server, once.
        exportRequest: function (clicks, figures, names) {
            const noUpdate = window.dash_clientside.no_update;
            const ctx = window.dash_clientside.callback_context;
            const trigger = ctx.triggered_id;
            if (!trigger || !clicks.some(Boolean)) {
                return [noUpdate, noUpdate];
            }
            const graphOf = function (state) { return state.id.graph; };
            const at = ctx.states_list[0].map(graphOf).indexOf(trigger.graph);
            const nameAt = ctx.states_list[1].map(graphOf).indexOf(trigger.graph);
            if (at < 0 || nameAt < 0) {
                return [noUpdate, noUpdate];
            }
            return [{graph: trigger.graph, format: trigger.format, figure: figures[at], filename: names[nameAt],
                     requested: Date.now()}, ""];
        }
    }
});
