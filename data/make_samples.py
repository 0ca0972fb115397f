"""Regenerate the bundled sample photos from scikit-image's data (licences: data/README.md).

    python data/make_samples.py    # writes data/samples/{train,test}/*.png
"""
import os

import cv2
import skimage.data

HERE = os.path.dirname(os.path.abspath(__file__))
# name in skimage.data -> (split, width, height)
PHOTOS = {
    'astronaut': ('train', 256, 256),
    'coffee': ('train', 300, 200),
    'rocket': ('train', 300, 200),
    'gravel': ('train', 256, 256),  # grey CC0 textures: fine detail for deblur / denoise
    'grass': ('train', 256, 256),
    'chelsea': ('test', 300, 200),
}

if __name__ == '__main__':
    for name, (split, w, h) in PHOTOS.items():
        pixels = getattr(skimage.data, name)()
        if pixels.ndim == 3:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
        img = cv2.resize(pixels, (w, h), interpolation=cv2.INTER_AREA)
        out = os.path.join(HERE, 'samples', split, f'{name}.png')
        os.makedirs(os.path.dirname(out), exist_ok=True)
        cv2.imwrite(out, img, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(out, img.shape)
