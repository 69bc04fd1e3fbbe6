// Backends from third-party shared libraries: class = "plugin:<path>",
// through the C ABI of kisee/idp/plugin.h.
#pragma once

#include <memory>
#include <string_view>

#include "idp/backend.h"

namespace kisee::idp {

// kPluginPrefix starts the class name of a plugin backend.
inline constexpr std::string_view kPluginPrefix = "plugin:";

// CreatePluginBackend loads the plugin at `path` (relative paths are relative
// to the settings file), checks its ABI and creates an instance with the
// [identity_backend.options]. Errors (kFailedPrecondition, one line naming
// the file): cannot be loaded, no entry point, NULL table, another ABI
// version, a required function missing, create() failed.
Result<std::unique_ptr<IdentityBackend>> CreatePluginBackend(const BackendContext& context,
                                                             std::string_view path);

}  // namespace kisee::idp
