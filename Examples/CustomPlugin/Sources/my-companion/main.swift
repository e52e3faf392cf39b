// my-companion: the companion command line with two more plugin types.
// `my-companion serve --config config.json` accepts {"type": "serverTiming"} and
// {"type": "blockUserAgent", ...} in sites[].plugins, besides the built-in types.
import CompanionCLI
import CompanionCore
import ExamplePlugins

var plugins = PluginRegistry.builtIn
plugins.register(ServerTimingPlugin.type)
plugins.register(BlockUserAgentPlugin.type)
runCompanion(plugins: plugins)
