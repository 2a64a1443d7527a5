{
  "targets": [
    {
      "target_name": "contrastive_native",
      "sources": [
        "src/addon.cc",
        "src/cpu_features.cc",
        "src/thread_pool.cc",
        "src/sgemm.cc",
        "src/sgemm_x86.cc",
        "src/elementwise.cc",
        "src/reduce.cc",
        "src/fused.cc",
        "src/vmath.cc",
        "src/vmath_x86.cc",
        "src/attention.cc"
      ],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++1y", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O2", "-fno-math-errno", "-ffp-contract=off"],
      "cflags!": ["-O3"],
      "xcode_settings": {
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O2", "-fno-math-errno", "-ffp-contract=off"]
      },
      "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17"] } },
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
