# ctest `consumer_find_package`: install this build of SFC into a temporary
# prefix, then build and run tests/consumer with find_package(sfc CONFIG).
include("${CMAKE_CURRENT_LIST_DIR}/consumer_common.cmake")

set(prefix "${WORK_DIR}/prefix")
set(config_args "")
if(CONFIG) # `cmake --install` rejects an empty --config
  set(config_args --config "${CONFIG}")
endif()
sfc_consumer_run("${CMAKE_COMMAND}" --install "${SFC_BINARY_DIR}" --prefix "${prefix}" ${config_args})
sfc_consumer_build_and_run("-DCMAKE_PREFIX_PATH=${prefix}")

# The consumer must have used the freshly installed package, nothing else.
file(STRINGS "${WORK_DIR}/build/CMakeCache.txt" sfc_dir_line REGEX "^sfc_DIR:")
string(FIND "${sfc_dir_line}" "${prefix}/" at)
if(NOT at GREATER -1)
  message(FATAL_ERROR "FAIL: consumer found sfc outside ${prefix}: ${sfc_dir_line}")
endif()
message("PASS: find_package(sfc) from ${prefix}")
