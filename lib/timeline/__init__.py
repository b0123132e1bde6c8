"""Timeline rules, pure Python (no numpy): keyframe interpolation exactly as the editor
previews it (uniform Catmull-Rom on 1/30 s ticks) and trim/speed segments (working ⇄ source
time). One implementation, used by the renders, the API and the vision camera paths.

May import only the kernel.
"""
