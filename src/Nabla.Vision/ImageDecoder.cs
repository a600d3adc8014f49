using SkiaSharp;

namespace Nabla.Vision;

/// <summary>
/// Decodes image files (PNG, JPEG, BMP, GIF, WebP) through SkiaSharp into channels-first floats
/// in [0, 1], resized to a chosen size. The dimensions are read from the header and checked before
/// any pixel is decoded; a truncated or corrupt file is an error that names it, never a partial image.
/// </summary>
public static class ImageDecoder
{
    /// <summary>The longest side accepted.</summary>
    public const int MaxSide = 16_384;

    /// <summary>The most pixels accepted (64 Mi: 256 MB as RGBA).</summary>
    public const long MaxPixels = 64L << 20;

    /// <summary>The largest file read (256 MB).</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>The width and height an image file declares, read from its header only.</summary>
    public static (int Width, int Height) Size(string path)
    {
        using var data = Read(path);
        using var codec = Codec(data, path);
        return (codec.Info.Width, codec.Info.Height);
    }

    /// <summary>
    /// The image at <paramref name="path"/> as [<paramref name="channels"/>, height, width] floats
    /// in [0, 1] (1 channel: ITU-R 601 luminance; 3: RGB), resized bilinearly to
    /// <paramref name="height"/> x <paramref name="width"/> when it has another size.
    /// </summary>
    public static float[] Decode(string path, int channels, int height, int width)
    {
        using var data = Read(path);
        return Decode(data, path, channels, height, width);
    }

    /// <summary>As <see cref="Decode(string, int, int, int)"/>, for an image held in memory; <paramref name="source"/> names it in errors.</summary>
    public static float[] Decode(ReadOnlySpan<byte> bytes, string source, int channels, int height, int width)
    {
        using var data = SKData.CreateCopy(bytes);
        return Decode(data, source, channels, height, width);
    }

    private static SKData Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"Image '{path}' does not exist.", path);
        if (info.Length > MaxFileBytes) throw new InvalidDataException($"Image '{path}' is {info.Length} bytes; images of more than {MaxFileBytes} bytes are refused.");
        return SKData.CreateCopy(File.ReadAllBytes(path));
    }

    private static SKCodec Codec(SKData data, string source)
    {
        var codec = SKCodec.Create(data) ?? throw new InvalidDataException($"Image '{source}' is not a PNG, JPEG, BMP, GIF or WebP image Nabla can read (or it is corrupt).");
        var info = codec.Info;
        if (info.Width < 1 || info.Height < 1 || info.Width > MaxSide || info.Height > MaxSide || (long)info.Width * info.Height > MaxPixels)
        {
            codec.Dispose();
            throw new InvalidDataException($"Image '{source}' declares {info.Width} x {info.Height} pixels; images up to {MaxSide} pixels a side and {MaxPixels:N0} pixels are read.");
        }
        return codec;
    }

    private static float[] Decode(SKData data, string source, int channels, int height, int width)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), $"channels must be 1 (grey) or 3 (RGB), not {channels}.");
        if (height < 1 || width < 1 || (long)height * width > MaxPixels) throw new ArgumentOutOfRangeException(nameof(height), $"image size {height} x {width} is not allowed.");
        using var codec = Codec(data, source);
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        SKCodecResult result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
            throw new InvalidDataException($"Image '{source}' could not be decoded ({result}): the file is truncated or corrupt.");
        SKBitmap pixels = bitmap;
        SKBitmap? resized = null;
        try
        {
            if (info.Width != width || info.Height != height)
            {
                resized = bitmap.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None))
                    ?? throw new InvalidDataException($"Image '{source}' could not be resized to {width} x {height}.");
                pixels = resized;
            }
            ReadOnlySpan<byte> rgba = pixels.GetPixelSpan();
            int plane = width * height;
            var output = new float[channels * plane];
            for (int p = 0; p < plane; p++)
            {
                int r = rgba[4 * p], g = rgba[4 * p + 1], b = rgba[4 * p + 2];
                if (channels == 1)
                {
                    // Integer luminance, so a grey image (r = g = b) keeps its exact values.
                    output[p] = (299 * r + 587 * g + 114 * b + 500) / 1000 / 255f;
                }
                else
                {
                    output[p] = r / 255f;
                    output[plane + p] = g / 255f;
                    output[2 * plane + p] = b / 255f;
                }
            }
            return output;
        }
        finally
        {
            resized?.Dispose();
        }
    }
}
