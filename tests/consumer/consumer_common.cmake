# Shared by run_find_package.cmake and run_add_subdirectory.cmake (cmake -P).
# Inputs (-D): SFC_SOURCE_ROOT, SFC_BINARY_DIR, CONSUMER_SOURCE_DIR, WORK_DIR,
#              CXX_COMPILER, GENERATOR, MAKE_PROGRAM, Eigen3_DIR, CONFIG.

# Runs a command, echoing it and its output; stops the script on failure.
function(sfc_consumer_run)
  string(REPLACE ";" " " printable "${ARGN}")
  message("\n$ ${printable}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "FAIL (exit ${result}): ${printable}")
  endif()
endfunction()

# Configures, builds and runs the consumer project in ${WORK_DIR}/build with
# the given extra configure arguments.
function(sfc_consumer_build_and_run)
  set(build_dir "${WORK_DIR}/build")
  set(build_type "${CONFIG}")
  if(NOT build_type)
    set(build_type Release)
  endif()
  set(configure_args
    -S "${CONSUMER_SOURCE_DIR}" -B "${build_dir}"
    -G "${GENERATOR}"
    "-DCMAKE_BUILD_TYPE=${build_type}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    # Never pick up an SFC from the user package registry.
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
  if(MAKE_PROGRAM)
    list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
  endif()
  if(Eigen3_DIR)
    list(APPEND configure_args "-DEigen3_DIR=${Eigen3_DIR}")
  endif()
  sfc_consumer_run("${CMAKE_COMMAND}" ${configure_args} ${ARGN})
  sfc_consumer_run("${CMAKE_COMMAND}" --build "${build_dir}" --config "${build_type}")

  find_program(consumer_exe consumer
    PATHS "${build_dir}" "${build_dir}/${build_type}" NO_DEFAULT_PATH REQUIRED)
  sfc_consumer_run("${consumer_exe}")
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
