// facekit._native: private extension module. The public API is the Python package around it.
#include "bindings.h"

PYBIND11_MODULE(_native, m) {
    m.doc() = "facekit's native core (private; use the facekit package)";
    auto arena = m.def_submodule("arena", "Secure frame arena");
    auto cpu = m.def_submodule("cpu", "CPU features and SIMD dispatch");
    auto warp = m.def_submodule("warp", "Affine crops and the fused crop + normalize kernel");
    facekit::bindings::register_arena(arena);
    facekit::bindings::register_cpu(cpu);
    facekit::bindings::register_warp(warp);
    auto detection = m.def_submodule("detection", "SSD anchors, box decoding, weighted NMS");
    auto landmarks = m.def_submodule("landmarks", "Face and iris ROIs, landmark projection");
    facekit::bindings::register_detection(detection);
    facekit::bindings::register_landmarks(landmarks);
    auto draw = m.def_submodule("draw", "Drawing landmarks without leaving native code");
    facekit::bindings::register_draw(draw);
    auto process = m.def_submodule("process", "Opt-in process hardening");
    facekit::bindings::register_process(process);
    auto beauty = m.def_submodule("beauty", "Skin, shape, makeup and colour effects on one face");
    facekit::bindings::register_beauty(beauty);
    auto fusion = m.def_submodule("fusion", "Fusing a prepared user face into a template face");
    facekit::bindings::register_fusion(fusion);
    auto anonymize = m.def_submodule("anonymize", "Covering face regions: pixelate, blur, solid");
    facekit::bindings::register_anonymize(anonymize);
    auto verify = m.def_submodule("verify", "Aligned face chips and descriptor distances");
    facekit::bindings::register_verify(verify);
    auto video = m.def_submodule("video", "yuv420p <-> RGB frame conversion");
    facekit::bindings::register_video(video);
    auto portrait = m.def_submodule("portrait", "Portrait mattes and background effects");
    facekit::bindings::register_portrait(portrait);
}
