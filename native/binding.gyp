{
  "targets": [
    {
      "target_name": "layerwise_native",
      "sources": [
        "src/binding.cc",
        "src/thread_pool.cc",
        "src/gemm.cc",
        "src/conv.cc",
        "src/conv_direct.cc",
        "src/conv_winograd.cc",
        "src/conv_filter_direct.cc",
        "src/pooling.cc",
        "src/depthwise.cc",
        "src/depthwise_vec.cc",
        "src/elementwise.cc",
        "src/optimizer.cc",
        "src/batch_norm.cc",
        "src/reduce_tile.cc",
        "src/infer.cc",
        "src/infer_binding.cc"
      ],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fno-math-errno", "-pthread"],
      "ldflags": ["-pthread"],
      "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-O3"] },
      "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/O2", "/arch:AVX2"] } }
    }
  ]
}
