// MediaPipe's attention face mesh (face_landmark_with_attention.tflite) runs as two networks with
// its three custom TFLite operators here between them (version 2 of each, the version the
// model's operator codes ask for; notes/attention_mesh.md has their semantics):
//
//   trunk network -> mesh (468 x 3), 48x48x32 feature map
//   attention_matrix (Landmarks2TransformMatrix): mesh -> one 4x4 matrix per region
//   transform_bilinear (TransformTensorBilinear): feature map -> one 16x16x32 crop per region
//   regions network -> lips, eyes and irises in crop units
//   attention_landmarks (TransformLandmarks + MediaPipe's refine assembly + projection): 478
//   points in image pixels
//
// Everything passed in and out here is biometric and meant to live in the secure arena.
#pragma once
#include <vector>

#include "facekit/landmarks.h"
#include "facekit/warp.h"

namespace facekit {

// One Landmarks2TransformMatrix operator's options: the mesh points whose box the crop frames,
// the two points whose line sets its rotation, and the crop's size.
struct AttentionRegion {
    std::vector<int> subset;  // mesh indices framed by the crop (and refined by its head)
    int left_index = 0;       // rotation line from this mesh point...
    int right_index = 0;      // ...to this one
    double target_rotation = 0;  // radians the line is turned to in the crop
    double scale_x = 1, scale_y = 1;  // the box grown by these factors
    int output_width = 0, output_height = 0;  // the crop's size in pixels
};

// Throws std::invalid_argument naming the problem: an empty subset, an index outside
// 0..467, a non-finite rotation, a non-positive or non-finite scale, a size outside
// 1..kMaxCropSide.
void check_attention_region(const AttentionRegion& region);

// Landmarks2TransformMatrix v2. `mesh_raw` is the trunk's 468 x (x, y, z) in input pixels;
// the operator sees it times `mesh_scale` (feature-map pixels per input pixel: 48 / 192). The
// subset's points are turned by target_rotation - angle(left -> right), their axis-aligned box
// in that frame is grown by (scale_x, scale_y), and `out` (row-major 4x4) receives the matrix
// mapping crop pixel (x, y, 0, 1) to feature-map coordinates: shift to the box's centre, turn
// back, scale the box onto output_width x output_height, shift the crop's centre to the origin.
// Computed in double, stored as float32. Throws std::invalid_argument (writing nothing) for a
// bad region or scale, non-finite input, coinciding rotation points or a box of zero width
// or height.
void attention_matrix(const float* mesh_raw, float mesh_scale, const AttentionRegion& region,
                      float out[16]);

// TransformTensorBilinear v2: `input` is an NHWC float tensor [height, width, channels]; `out`
// receives [out_height, out_width, channels]. Output pixel (x, y) samples the input at the
// first two rows of `matrix` (row-major 4x4) applied to its centre (x + 0.5, y + 0.5, 0, 1),
// less 0.5: bilinear from the four neighbours, where a neighbour past the right or bottom edge
// reads 0, and a position outside [0, width - 1] x [0, height - 1] gives 0. Float32
// arithmetic in a fixed order: every SIMD path writes the scalar reference's bits.
// Throws std::invalid_argument for null pointers, non-positive or absurd sizes, a non-finite
// matrix.
void transform_bilinear(const float* input, int height, int width, int channels,
                        const float matrix[16], int out_height, int out_width, float* out);

// The regions network's outputs, each (x, y) pairs in crop units: lips and eyes one pair per
// point of their region's subset, each iris 5 points. "Left" and "right" are the model's: its
// left eye is the crop framing points 33 and 133 (the subject's right eye).
struct AttentionHeads {
    const float* lips;
    const float* left_eye;
    const float* left_iris;
    const float* right_eye;
    const float* right_iris;
};

// The 478-point set, written straight into `out` (478 rows of x, y, z in image pixels):
// MediaPipe's refine assembly of the attention model's outputs, then projected through `roi`.
// regions[0..2] are lips, left eye, right eye; matrices[16 k..] (three row-major 4x4, as from
// attention_matrix) times matrix_scale[16 k..] element by element (the model's constant taking the
// translation back to input pixels) maps region k's points, (x, y, 0, 1) -> first two rows, to
// input pixels. Rows 0..467 are the mesh (x, y, z); each region's points overwrite x, y of its
// subset indices (z stays the mesh's); the left-eye crop's iris becomes rows 468..472
// (kRightIrisFirst: the subject's right iris) and the right-eye crop's 473..477; each iris's z
// is the mean z of its eye's 16 contour points (kRightEyeContour / kLeftEyeContour, as
// IrisDepth::EyeAverage). Then every row is projected as project_face_landmarks does.
// Nothing is staged outside `out`. Throws std::invalid_argument for a bad region or roi,
// non-finite input (nothing written then) or a point that lands out of range (then `out` may
// hold a partial result).
void attention_landmarks(const float* mesh_raw, const AttentionHeads& heads,
                         const float matrices[48], const float matrix_scale[48],
                         const AttentionRegion regions[3], const RotatedRect& roi, int input_size,
                         float* out);

}  // namespace facekit
