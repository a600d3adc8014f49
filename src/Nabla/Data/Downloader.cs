using System.Security.Cryptography;

namespace Nabla.Data;

/// <summary>A file to fetch and the SHA-256 digest (lower-case hex) it must have.</summary>
/// <param name="Name">File name, relative to the source address and the target folder.</param>
/// <param name="Sha256">Expected digest.</param>
public sealed record RemoteFile(string Name, string Sha256);

/// <summary>
/// Fetches dataset files over HTTP into a folder, verifying each one's SHA-256 before it is
/// put in place (written to a temporary file, checked, then renamed), so a cut download or a
/// changed file never becomes a dataset file.
/// </summary>
public static class Downloader
{
    /// <summary>
    /// Makes sure every file is in <paramref name="folder"/> with its digest: files already there
    /// and correct are kept; others are downloaded from <paramref name="source"/>.
    /// </summary>
    public static void Fetch(Uri source, IReadOnlyList<RemoteFile> files, string folder, HttpClient? client = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(files);
        Directory.CreateDirectory(folder);
        HttpClient http = client ?? new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        try
        {
            foreach (var file in files)
            {
                string target = Path.Combine(folder, file.Name);
                if (File.Exists(target) && Digest(target) == file.Sha256) continue;
                var uri = new Uri(source, file.Name);
                string temp = target + ".download";
                try
                {
                    using (var response = http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead).GetAwaiter().GetResult())
                    {
                        if (!response.IsSuccessStatusCode)
                            throw new IOException($"Downloading {uri} failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}.");
                        using var body = response.Content.ReadAsStream();
                        using var output = File.Create(temp);
                        body.CopyTo(output);
                    }
                    string actual = Digest(temp);
                    if (actual != file.Sha256)
                        throw new InvalidDataException($"Downloaded {uri} has SHA-256 {actual}, but {file.Sha256} was expected; the file was discarded.");
                    File.Move(temp, target, overwrite: true);
                }
                catch (HttpRequestException e)
                {
                    throw new IOException($"Downloading {uri} failed: {e.Message}", e);
                }
                catch (TaskCanceledException e)
                {
                    throw new IOException($"Downloading {uri} timed out.", e);
                }
                finally
                {
                    if (File.Exists(temp)) File.Delete(temp);
                }
            }
        }
        finally
        {
            if (client is null) http.Dispose();
        }
    }

    /// <summary>The SHA-256 of a file, lower-case hex.</summary>
    public static string Digest(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
