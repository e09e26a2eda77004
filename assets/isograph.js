// Clientside callbacks of IsoGraph Explorer (loaded by Dash from assets/).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    isograph: {
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
