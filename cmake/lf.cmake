# Helpers that make every module one library with declared dependencies (see ../shared/STYLE.md).

# lf_library(<module> SRCS a.cc b.cc DEPS lf::common absl::status ...)
# Defines target lf_<module> with alias lf::<module>.
function(lf_library module)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(lf_${module} STATIC ${ARG_SRCS})
  add_library(lf::${module} ALIAS lf_${module})
  target_include_directories(lf_${module} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(lf_${module} PUBLIC ${ARG_DEPS})
endfunction()

# lf_test(<name> [ONE_PROCESS] SRCS a_test.cc DEPS lf::window ...)
# A GoogleTest binary registered with ctest under the label "unit": each test on its own, or with
# ONE_PROCESS the whole binary as one ctest test (for tests that share an expensive fixture, such
# as a PostgreSQL server).
function(lf_test name)
  cmake_parse_arguments(ARG "ONE_PROCESS" "" "SRCS;DEPS" ${ARGN})
  if(NOT LF_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  if(ARG_ONE_PROCESS)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS unit)
  else()
    gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
  endif()
endfunction()
