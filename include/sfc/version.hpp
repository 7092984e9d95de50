#pragma once

// SFC version. Must match project(sfc VERSION ...) in the top-level
// CMakeLists.txt (checked at configure time).
#define SFC_VERSION_MAJOR 0
#define SFC_VERSION_MINOR 1
#define SFC_VERSION_PATCH 0
