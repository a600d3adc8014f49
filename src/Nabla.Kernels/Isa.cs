using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels;

/// <summary>The instruction sets the kernels have a path for, narrowest first.</summary>
public enum InstructionSet
{
    /// <summary>Plain scalar code: every machine.</summary>
    Scalar,

    /// <summary>128-bit vectors through the portable Vector128 API (ARM64 AdvSimd, SSE).</summary>
    Vector128,

    /// <summary>256-bit AVX2 with FMA.</summary>
    Avx2,

    /// <summary>512-bit AVX-512F (with FMA on 512-bit registers, and 32 of them).</summary>
    Avx512,
}

/// <summary>
/// Which instruction set the kernels use: chosen once at start-up, the widest the processor has
/// unless <c>NABLA_ISA=avx512|avx2|vector128|scalar</c> asks for a narrower one (a wider one than
/// the processor has is refused). Tests set <see cref="Current"/> to run every path the machine
/// supports. All paths sum each element in the same order, so they give the same results.
/// </summary>
public static class Isa
{
    /// <summary>The widest instruction set this processor supports (that the kernels have a path for).</summary>
    public static InstructionSet Widest { get; } =
        Avx512F.IsSupported && Avx2.IsSupported && Fma.IsSupported ? InstructionSet.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? InstructionSet.Avx2
        : Vector128.IsHardwareAccelerated ? InstructionSet.Vector128
        : InstructionSet.Scalar;

    /// <summary>Every instruction set this processor supports, narrowest first.</summary>
    public static IReadOnlyList<InstructionSet> Supported { get; } = [.. Enum.GetValues<InstructionSet>().Where(i => i <= Widest)];

    // Read from NABLA_ISA on first use (not in a type initializer, so that a bad value is a plain
    // ArgumentException naming it).
    private static InstructionSet? s_current;

    /// <summary>The instruction set in use; settable to any of <see cref="Supported"/> (tests, benchmarks).</summary>
    public static InstructionSet Current
    {
        get => s_current ??= Choose(Environment.GetEnvironmentVariable("NABLA_ISA"));
        set
        {
            if (value > Widest || value < InstructionSet.Scalar)
                throw new ArgumentOutOfRangeException(nameof(value), $"This processor's widest instruction set is {Name(Widest)}; {value} cannot be used.");
            s_current = value;
        }
    }

    /// <summary>The lower-case name (<c>avx512</c>, <c>avx2</c>, <c>vector128</c>, <c>scalar</c>), as NABLA_ISA takes it.</summary>
    public static string Name(InstructionSet isa) => isa.ToString().ToLowerInvariant();

    /// <summary>The instruction set for a NABLA_ISA value (null or empty: the widest).</summary>
    public static InstructionSet Choose(string? requested)
    {
        if (string.IsNullOrWhiteSpace(requested)) return Widest;
        if (!Enum.TryParse(requested.Trim(), ignoreCase: true, out InstructionSet isa) || !Enum.IsDefined(isa))
            throw new ArgumentException($"NABLA_ISA={requested} is not one of avx512, avx2, vector128, scalar.");
        if (isa > Widest)
            throw new ArgumentException($"NABLA_ISA={requested}: this processor's widest instruction set is {Name(Widest)}.");
        return isa;
    }
}
