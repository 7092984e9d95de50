# ctest `consumer_add_subdirectory`: build and run tests/consumer with
# add_subdirectory(<SFC source tree>) instead of find_package.
include("${CMAKE_CURRENT_LIST_DIR}/consumer_common.cmake")

sfc_consumer_build_and_run("-DSFC_SOURCE_DIR=${SFC_SOURCE_ROOT}")
message("PASS: add_subdirectory(sfc)")
