# Runs one must-not-compile case (see tests/CMakeLists.txt):
#   cmake -DSOURCE=<case.cpp> -DBINARY_DIR=<build> -DTARGET=<target> [-DCONFIG=<cfg>]
#         -P check_compile_fail.cmake
# Passes only if building TARGET fails AND the build output matches the regex
# on the first line of SOURCE (`// expect: <regex>`).
foreach(var SOURCE BINARY_DIR TARGET)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_compile_fail.cmake: -D${var}=... is required")
  endif()
endforeach()

file(STRINGS "${SOURCE}" first_line LIMIT_COUNT 1)
if(NOT first_line MATCHES "^// expect: (.+)$")
  message(FATAL_ERROR "${SOURCE}: the first line must be `// expect: <regex>`")
endif()
set(expect "${CMAKE_MATCH_1}")

execute_process(
  COMMAND "${CMAKE_COMMAND}" --build "${BINARY_DIR}" --target "${TARGET}" --config "${CONFIG}"
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
message("${output}")

if(result EQUAL 0)
  message(FATAL_ERROR "FAIL: ${SOURCE} compiled, but it must not compile.")
endif()
if(NOT output MATCHES "${expect}")
  message(FATAL_ERROR
    "FAIL: ${SOURCE} did not compile (good), but the output does not match the "
    "expected message regex: ${expect}")
endif()
message("PASS: ${SOURCE} failed to compile with the expected message: ${expect}")
