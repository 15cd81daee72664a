// infer.cpp: the model runtime from C++ (g++), with RAII around the C API.
//
//   infer_cpp MODEL
//
// Loads any file written by fastdl.export or fdl_model_save, runs one batch
// of 4 samples (input values i / n, or indices i % 2 for an Embedding model)
// in eval mode and prints the output shape and each sample's scores.
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <fastdl.h>

namespace {

struct ModelDeleter {
    void operator()(fdl_model *m) const { fdl_model_free(m); }
};
using Model = std::unique_ptr<fdl_model, ModelDeleter>;

void check(int st, const std::string &what)
{
    if (st != FDL_OK)
        throw std::runtime_error(what + ": " + fdl_strerror(st) + ": " + fdl_model_last_error());
}

Model load(const std::string &path)
{
    fdl_model *m = nullptr;
    check(fdl_model_load(path.c_str(), &m), path);
    return Model(m);
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: infer_cpp MODEL\n");
        return 2;
    }
    try {
        Model m = load(argv[1]);
        fdl_model_train(m.get(), 0);
        const int64_t B = 4, in = fdl_model_input_numel(m.get()), out = fdl_model_output_numel(m.get());
        if (in < 1) throw std::runtime_error("the file records no input shape");
        std::vector<float> xf(B * in);
        std::vector<int64_t> xi(B * in);
        for (int64_t i = 0; i < B * in; i++) {
            xf[i] = float(i) / float(B * in);
            xi[i] = i % 2;
        }
        const void *x = fdl_model_input_dtype(m.get()) == FDL_DTYPE_I64
                            ? static_cast<const void *>(xi.data()) : xf.data();
        std::vector<float> y(B * out);
        check(fdl_model_forward(m.get(), x, B, y.data()), "forward");
        int nd;
        int64_t shape[8];
        check(fdl_model_output_shape(m.get(), &nd, shape), "output_shape");
        std::printf("%d layers, output [%lld", fdl_model_num_layers(m.get()), (long long)B);
        for (int k = 0; k < nd; k++) std::printf(", %lld", (long long)shape[k]);
        std::printf("]\n");
        for (int64_t b = 0; b < B; b++) {
            std::printf("sample %lld:", (long long)b);
            for (int64_t j = 0; j < out && j < 10; j++) std::printf(" %.5f", y[b * out + j]);
            std::printf("%s\n", out > 10 ? " ..." : "");
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "infer_cpp: %s\n", e.what());
        return 1;
    }
    return 0;
}
