import numpy as np
np.set_printoptions(precision=6)
def ring(n, w=1/3):
    W=np.zeros((n,n))
    for i in range(n):
        W[i,i]=1-2*w; W[i,(i+1)%n]=w; W[i,(i-1)%n]=w
    return W
# ---- item 9: heavy-ball gossip on n=32 ring
n=32; W=ring(n); ev=np.sort(np.linalg.eigvalsh(np.eye(n)-W))
lmin, lmax = ev[1], ev[-1]
h=4/(np.sqrt(lmax)+np.sqrt(lmin))**2; b=((np.sqrt(lmax)-np.sqrt(lmin))/(np.sqrt(lmax)+np.sqrt(lmin)))**2
# iteration matrix on R^{2n}
A=np.block([[(1+b)*np.eye(n)-h*(np.eye(n)-W), -b*np.eye(n)],[np.eye(n), np.zeros((n,n))]])
P=np.eye(n)-np.ones((n,n))/n
Ap=np.block([[P@A[:n,:n]@P, P@A[:n,n:]@P],[P,np.zeros((n,n))]])
rho=max(abs(np.linalg.eigvals(Ap)))
print("HB: sqrt(b)=",np.sqrt(b)," spectral radius (mean-free)=",rho)
rng=np.random.default_rng(0); x=rng.standard_normal(n); xm=x.copy(); e0=np.linalg.norm(P@x)
for k in range(1,2000):
    x,xm = x - h*(np.eye(n)-W)@x + b*(x-xm), x
    if np.linalg.norm(P@x)/e0<1e-8: print("HB iters to 1e-8:",k); break
x=rng.standard_normal(n); e0=np.linalg.norm(P@x)
for k in range(1,20000):
    x=W@x
    if np.linalg.norm(P@x)/e0<1e-8: print("plain gossip iters to 1e-8:",k); break
# ---- item 8: Chebyshev AccGossip
Lap=np.eye(n)-W; evL=np.sort(np.linalg.eigvalsh(Lap)); gam=evL[1]/evL[-1]
c1=(1-np.sqrt(gam))/(1+np.sqrt(gam)); c2=(1+gam)/(1-gam); c3=2/((1+gam)*evL[-1])
for K in [1,2,3,int(np.floor(1/np.sqrt(gam))),10]:
    # polynomial via recurrence applied to eigenvalues
    t=evL[1:]
    a0,a1=1.0,c2; x0=np.ones_like(t); x1=c2*(1-c3*t)
    for _ in range(K-1):
        a0,a1=a1,2*c2*a1-a0; x0,x1=x1,2*c2*(1-c3*t)*x1-x0
    aK,xK=(a1,x1) if K>=1 else (a0,x0)
    PK=1-xK/aK   # eigenvalues of AccGossip operator on mean-free subspace
    dev=max(abs(xK/aK)); pred=2*c1**K/(1+c1**(2*K))
    from numpy.polynomial import chebyshev as C
    TK=np.cosh(K*np.arccosh(c2))
    print(f"K={K}: max|T_K(c2(1-c3 l))/T_K(c2)|={dev:.6e}  1/T_K(c2)={1/TK:.6e}  2c^K/(1+c^2K)={pred:.6e}  gamma(P_K)={PK.min()/PK.max():.4f} >= ((1-c^K)/(1+c^K))^2={((1-c1**K)/(1+c1**K))**2:.4f}")
